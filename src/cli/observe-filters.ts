// The filter flags of `tcptrail observe`, hubble's: each repeatable (the same
// flag again is an OR, different flags an AND), and `--not` before any of
// them moves that one filter into the exclude group. `--not` depends on
// order, which commander's parsed options lose (they are a bag of values), so
// the flags are also recorded as commander reads them, from its per-option
// events, in command-line order.
import { Option, type Command } from "commander";
import type { FilterFlags, FilterFlagsWithNot } from "../observe/mod.js";
import { UsageError } from "./errors.js";

interface FilterFlagSpec {
  flags: string;
  key: keyof FilterFlags;
  description: string;
}

// Literal names here: the observe module (and NATS) must not load for --help.
const FILTER_FLAGS: readonly FilterFlagSpec[] = [
  { flags: "--node <name>", key: "node", description: "events of this node" },
  { flags: "--pod <name>", key: "pod", description: "events with either end in this pod (--from-pod or --to-pod)" },
  { flags: "--from-pod <name>", key: "fromPod", description: "events whose local end (the socket itself) is in this pod" },
  {
    flags: "--to-pod <name>",
    key: "toPod",
    description: "events whose remote end is in this pod (its address as seen on the local end of that pod's sockets; loopback: the same pod)",
  },
  { flags: "--ip <addr>", key: "ip", description: "local, remote or target address" },
  { flags: "--port <port>", key: "port", description: "local, remote or target port" },
  { flags: "--role <role>", key: "role", description: "app or sidecar" },
  { flags: "--kind <kind>", key: "kind", description: "event kind, e.g. state-change, reset-sent" },
  {
    flags: "--tcp-flags <flags>",
    key: "tcpFlags",
    description: "events that stand for a SYN (opening), FIN or RST, comma-separated for any of them, e.g. FIN,RST",
  },
  {
    flags: "--label <key=value>",
    key: "label",
    description: "events whose own pod has this label (from the container runtime); unlike the others, repeated means every label (AND)",
  },
];

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Reads the filters of the last parse. @throws UsageError for a --not with no filter right after it. */
export type ObserveFilterReader = () => FilterFlagsWithNot;

/** Adds --not and the filter flags to `cmd`; the returned reader gives the filters in their include and exclude groups. */
export function addObserveFilterFlags(cmd: Command): ObserveFilterReader {
  let include: FilterFlags = {};
  let exclude: FilterFlags = {};
  let negateNext = false;
  let misplacedNot: string | undefined;
  cmd.addOption(new Option("--not", "the next filter flag excludes what it matches, e.g. --not --pod a (repeat before each filter to negate)"));
  cmd.on("option:not", () => {
    // hubble refuses `--not --not` too: it would read as a double negation nobody means.
    if (negateNext) misplacedNot ??= "--not must be followed by a filter flag, not another --not";
    negateNext = true;
  });
  for (const spec of FILTER_FLAGS) {
    const option = new Option(spec.flags, `${spec.description} (repeatable)`).argParser(collect);
    cmd.addOption(option);
    cmd.on(`option:${option.name()}`, (value: string) => {
      const group = negateNext ? exclude : include;
      group[spec.key] = [...(group[spec.key] ?? []), value];
      negateNext = false;
    });
  }
  return () => {
    const flags: FilterFlagsWithNot = { ...include, ...(Object.keys(exclude).length > 0 ? { not: exclude } : {}) };
    const error = misplacedNot ?? (negateNext ? "--not must be followed by a filter flag (e.g. --not --pod a)" : undefined);
    include = {};
    exclude = {};
    negateNext = false;
    misplacedNot = undefined;
    if (error) throw new UsageError(error);
    return flags;
  };
}

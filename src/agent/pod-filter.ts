// Which pods an agent reports (`tcptrail agent --pods GLOB[,GLOB]`): several
// agents can then share one kernel, each playing a node that hosts some of
// its pods, and each socket is published by exactly one of them. Matching is
// on the pod name the resolver gives a socket's network namespace; the host
// namespace is named after the node, so it matches only when a glob matches
// the node's name. A socket whose namespace has no name (yet) matches no
// glob but `*`: no agent may claim it by accident, and with overlapping
// agents a socket published twice would be two half-traces.
import { InvalidArgumentError } from "../errors/mod.js";

/** Characters a glob may hold besides `*` and `?`: pod names (ns/pod), node names. */
const GLOB_SYNTAX = /^[A-Za-z0-9._/:*?-]+$/;

/**
 * "ns-a/*,node-1" → ["ns-a/*", "node-1"]: comma-separated globs, each
 * non-empty, of pod-name characters and the wildcards `*` (any run, also
 * across "/") and `?` (one character).
 * @throws InvalidArgumentError naming the first bad glob
 */
export function parsePodGlobs(value: string): string[] {
  const globs = value.split(",").map((g) => g.trim());
  for (const g of globs) {
    if (!GLOB_SYNTAX.test(g)) {
      throw InvalidArgumentError.format("pods", `must be pod-name globs separated by commas (letters, digits, . _ / : - and the wildcards * ?), got "${g}" in "${value}"`);
    }
  }
  return globs;
}

/** One glob as an anchored regular expression. */
function globRegExp(glob: string): RegExp {
  let re = "";
  for (const ch of glob) re += ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
  return new RegExp(`^${re}$`);
}

export class PodFilter {
  readonly globs: readonly string[];
  readonly #patterns: readonly RegExp[];
  // Few pods per node, many events per pod: each name is matched once.
  readonly #decided = new Map<string, boolean>();

  /** @throws InvalidArgumentError when a glob is not of parsePodGlobs' syntax or none is given */
  constructor(globs: readonly string[]) {
    if (globs.length === 0) throw InvalidArgumentError.format("pods", "needs at least one glob");
    for (const g of globs) parsePodGlobs(g);
    this.globs = [...globs];
    this.#patterns = globs.map(globRegExp);
  }

  /** Whether a socket of this pod (the resolver's name, "" when unknown) is this agent's. */
  matches(pod: string): boolean {
    let yes = this.#decided.get(pod);
    if (yes === undefined) {
      yes = this.#patterns.some((p) => p.test(pod));
      // Names are few, but a resolver that returns garbage must not grow this without bound.
      if (this.#decided.size >= 10_000) this.#decided.clear();
      this.#decided.set(pod, yes);
    }
    return yes;
  }
}

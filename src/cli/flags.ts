// The flags several commands share, each defined once (hubble's
// cmd/common/config/flags.go idea): same name, same value grammar, same
// environment variable (one prefix, TCPTRAIL_) in every command that has it.
// Commands add them with `.addOption(natsFlag())` and so on.
//
// This file is loaded for every command line, so it imports nothing heavier
// than commander and the time and size grammars: defaults that belong to
// other layers are repeated here as plain values (test/cli/flags.test.ts
// holds them equal to their owners' constants) rather than loading a NATS
// client, the API client or the store just to print --help.
import { isIP } from "node:net";
import { Option } from "commander";
import { SIZE_SYNTAX, formatSize, sizeBytes } from "../sizefmt/mod.js";
import { DURATION_SYNTAX, durationUs, formatDurationMs, isInvalidTimeError, parseTimeUs } from "../timefmt/mod.js";
import { isBadStoreUrlError, parseStoreUrl } from "../store/store-url.js";
import { BadFlagValueError } from "./exit.js";
import { portOption } from "./options.js";

/** Every environment variable of the CLI starts with this. */
export const ENV_PREFIX = "TCPTRAIL_";
/** = transport's DEFAULT_NATS_URL: where `tcptrail run` starts its nats-server. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** = query's DEFAULT_API_URL: where `tcptrail run` serves the API. */
export const DEFAULT_API_URL = "http://127.0.0.1:7070";
export const DEFAULT_STATE_DIR = "/var/lib/tcptrail";
/** = the store's DEFAULT_MAX_AGE_MS: traces are kept 24 h. */
export const DEFAULT_TRACES_MAX_AGE_MS = 24 * 3_600_000;
/** = the store's DEFAULT_MAX_BYTES. */
export const DEFAULT_TRACES_MAX_BYTES = 8 * 1024 ** 3;
/** = the store's DEFAULT_EVENTS_MAX_AGE_MS: the raw-event ring reaches 15 min back. */
export const DEFAULT_EVENTS_MAX_AGE_MS = 15 * 60_000;
/** = the store's DEFAULT_EVENTS_MAX_BYTES. */
export const DEFAULT_EVENTS_MAX_BYTES = 1024 ** 3;
/** = transport's DEFAULT_EVENTS_HORIZON_MS: the JetStream events stream reaches 1 h back. */
export const DEFAULT_EVENTS_HORIZON_MS = 3_600_000;
/** = transport's DEFAULT_EVENTS_RATE, events/s. */
export const DEFAULT_EVENTS_RATE = 5000;

/**
 * Output formats, one vocabulary for every command: `compact` one line per
 * item for people, `table` aligned columns with a header, `json` one JSON
 * object per line for scripts. Each command offers the ones it can print.
 */
export const OUTPUT_FORMATS = ["compact", "table", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** Older names that keep working: `alerts -o text` printed what is now `compact`. */
const OUTPUT_ALIASES: Readonly<Record<string, OutputFormat>> = { text: "compact" };

export const isOutputFormat = (s: string): s is OutputFormat => (OUTPUT_FORMATS as readonly string[]).includes(s);

/** `--nats <url>`, env TCPTRAIL_NATS. Without a default when the command can do without NATS (`run` starts its own). */
export function natsFlag(opts: { description?: string; noDefault?: boolean } = {}): Option {
  // A cluster is a comma-separated list: transport's connectNats fails over between its servers.
  const o = new Option("--nats <url>", opts.description ?? "NATS server URL (a cluster: comma-separated URLs)").env(`${ENV_PREFIX}NATS`);
  return opts.noDefault ? o : o.default(DEFAULT_NATS_URL);
}

/** `--api <url>`, env TCPTRAIL_API: the query API of `tcptrail run`. */
export function apiFlag(): Option {
  return new Option("--api <url>", "query API base URL").env(`${ENV_PREFIX}API`).default(DEFAULT_API_URL);
}

/** `--state-dir <dir>`, env TCPTRAIL_STATE_DIR: tcptrail's data (NATS, trace store, lab state in <dir>/lab). */
export function stateDirFlag(description = "tcptrail's state directory"): Option {
  return new Option("--state-dir <dir>", description).env(`${ENV_PREFIX}STATE_DIR`).default(DEFAULT_STATE_DIR);
}

/**
 * `--store <url>`, env TCPTRAIL_STORE: the trace store. Unset: the SQLite
 * file <state-dir>/tcptrail.db. A PostgreSQL URL lets several consumers
 * share one store. Checked when parsed (src/store/store-url.ts), so a bad
 * URL is a usage error before anything starts; the value stays the URL
 * string (plain data for the consumer worker).
 */
export function storeFlag(): Option {
  return new Option("--store <url>", "trace store URL: sqlite:<path>, or postgres://user@host/db to share one store between consumers (default: sqlite:<state-dir>/tcptrail.db)")
    .env(`${ENV_PREFIX}STORE`)
    .argParser((value: string) => {
      try {
        parseStoreUrl(value);
      } catch (e) {
        if (isBadStoreUrlError(e)) throw new BadFlagValueError(e.message);
        throw e;
      }
      return value;
    });
}

/**
 * `--since <time>` / `--until <time>`: the time grammar of src/timefmt (5m,
 * 1h30m, RFC 3339, now, µs since the epoch), resolved to µs since the epoch
 * when the command line is parsed, so a bad value is a usage error before
 * anything connects and both ends of a window share one "now".
 */
export function sinceFlag(description: string): Option {
  return new Option("--since <time>", description).argParser(timeValue("--since"));
}

export function untilFlag(description: string): Option {
  return new Option("--until <time>", description).argParser(timeValue("--until"));
}

function timeValue(flag: string): (value: string) => number {
  return (value) => {
    try {
      return parseTimeUs(value, { option: flag });
    } catch (e) {
      if (isInvalidTimeError(e)) throw new BadFlagValueError(e.message);
      throw e;
    }
  };
}

/**
 * `--proxy-idle-timeout <durations>`: the sidecars' configured idle timeouts
 * (HAProxy `timeout client`/`timeout server`, Envoy `idle_timeout`), one or
 * more comma-separated durations of the time grammar ("1h,30s"), to ms.
 * tcptrail cannot read them from the proxies, and without them a sidecar's
 * close after a quiet stretch is only presumed to be its idle timeout; with
 * them it is compared, so `why` says so with certainty, or says it was not.
 */
export function proxyIdleTimeoutFlag(): Option {
  return new Option(
    "--proxy-idle-timeout <durations>",
    "the sidecars' idle timeout(s), comma-separated (e.g. 1h,30s: HAProxy timeout client/server, Envoy idle_timeout); " +
      "lets `why` name a proxy idle-timeout close with certainty",
  ).argParser(durationListMs("--proxy-idle-timeout"));
}

/** "1h,30s" → [3600000, 30000]; each a duration > 0, none left empty. */
function durationListMs(flag: string): (value: string) => number[] {
  return (value) =>
    value.split(",").map((part) => {
      const us = durationUs(part);
      if (us === undefined) throw new BadFlagValueError(`${flag} must be ${DURATION_SYNTAX}, or several separated by commas; got "${part}"`);
      // A zero timeout would make every close "its idle timeout".
      if (us <= 0) throw new BadFlagValueError(`${flag} must be longer than 0, got "${part}"`);
      return us / 1_000;
    });
}

/** A duration flag's value in ms: the time grammar, longer than 0 (a zero limit would keep nothing). */
function positiveDurationMs(flag: string): (value: string) => number {
  return (value) => {
    const us = durationUs(value);
    if (us === undefined) throw new BadFlagValueError(`${flag} must be ${DURATION_SYNTAX}; got "${value}"`);
    if (us < 1_000) throw new BadFlagValueError(`${flag} must be at least 1ms, got "${value}"`);
    return Math.round(us / 1_000);
  };
}

/** A size flag's value in bytes: the size grammar (src/sizefmt), more than 0. */
function positiveSizeBytes(flag: string): (value: string) => number {
  return (value) => {
    const bytes = sizeBytes(value);
    if (bytes === undefined) throw new BadFlagValueError(`${flag} must be ${SIZE_SYNTAX}; got "${value}"`);
    if (bytes < 1) throw new BadFlagValueError(`${flag} must be more than 0 bytes, got "${value}"`);
    return bytes;
  };
}

const durationOption = (flags: string, description: string, byDefault: number): Option =>
  new Option(flags, description).argParser(positiveDurationMs(flags.split(" ")[0]!)).default(byDefault, formatDurationMs(byDefault));

const sizeOption = (flags: string, description: string, byDefault: number): Option =>
  new Option(flags, description).argParser(positiveSizeBytes(flags.split(" ")[0]!)).default(byDefault, formatSize(byDefault));

/**
 * The trace store's retention, per kind (`run` only: the store is its
 * consumer side's), each by age and by size, oldest first. Values reach the
 * store's RetentionPolicy in ms and bytes; the defaults are the store's.
 */
export function storeRetentionFlags(): Option[] {
  return [
    durationOption("--traces-max-age <duration>", "trace store: delete traces whose last activity is older than this", DEFAULT_TRACES_MAX_AGE_MS),
    sizeOption("--traces-max-size <size>", "trace store: delete the oldest traces beyond this size (e.g. 512MiB, 10GiB, 1.5GB)", DEFAULT_TRACES_MAX_BYTES),
    durationOption(
      "--events-max-age <duration>",
      "trace store: how far back the raw-event ring reaches (live timelines, replay after a restart)",
      DEFAULT_EVENTS_MAX_AGE_MS,
    ),
    sizeOption("--events-max-size <size>", "trace store: delete the oldest raw events beyond this size", DEFAULT_EVENTS_MAX_BYTES),
  ];
}

/**
 * The JetStream events stream sized by time (`agent` and `run`): how far
 * back it reaches, and the node's expected sustained rate, from which the
 * transport derives its max bytes (src/transport/events-stream-size.ts).
 */
export function eventsStreamFlags(): Option[] {
  return [
    durationOption("--events-horizon <duration>", "events stream: how far back it reaches (its max age; max bytes follow from --events-rate)", DEFAULT_EVENTS_HORIZON_MS),
    new Option("--events-rate <events/s>", "events stream: the node's expected sustained events/s, sizing its max bytes for the horizon")
      .argParser(positiveRate("--events-rate"))
      .default(DEFAULT_EVENTS_RATE),
  ];
}

function positiveRate(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n <= 0) {
      throw new BadFlagValueError(`${flag} must be a number of events per second above 0, like 5000; got "${value}"`);
    }
    return n;
  };
}

/**
 * `--pods <globs>` (`agent`, `run`): report only sockets of pods whose name
 * matches one of these comma-separated globs (`*`, `?`); the host namespace
 * is named after --node. Several agents can then share one kernel, each
 * playing a node. Checked here, so a bad glob is a usage error.
 */
export function podsFlag(): Option {
  return new Option(
    "--pods <globs>",
    "only sockets of pods matching these comma-separated globs (e.g. 'shop/*,node-1'; the host namespace is the --node name); other pods' events are dropped and counted in tcptrail_events_filtered_total",
  ).argParser((value: string): string[] => {
    const globs = value.split(",").map((g) => g.trim());
    // The agent's own grammar (src/agent/pod-filter.ts), repeated as a pattern: --help must not load the agent.
    const bad = globs.find((g) => !POD_GLOB.test(g));
    if (bad !== undefined) throw new BadFlagValueError(`--pods must be pod-name globs separated by commas (letters, digits, . _ / : - and * ?); got "${bad}" in "${value}"`);
    return globs;
  });
}

/** = agent's pod-filter glob syntax. */
export const POD_GLOB = /^[A-Za-z0-9._/:*?-]+$/;

/** = transport's default replicas: 1, right for a single nats-server. */
export const DEFAULT_STREAM_REPLICAS = 1;

/**
 * `--stream-replicas <n>` (`agent`, `run`, `consumer`): the JetStream
 * streams' replicas when tcptrail creates or updates them. 3 on a 3-server
 * NATS cluster keeps every stream through the loss of one server; a single
 * server takes only 1.
 */
export function streamReplicasFlag(): Option {
  return new Option("--stream-replicas <n>", "replicas of tcptrail's JetStream streams (3 on a NATS cluster of 3 or more; at most 5)")
    .argParser((value: string): number => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1 || n > 5) throw new BadFlagValueError(`--stream-replicas must be a whole number from 1 to 5 (JetStream's limit); got "${value}"`);
      return n;
    })
    .default(DEFAULT_STREAM_REPLICAS);
}

/** = transport's DEFAULT_STREAM_LIMITS.traces.maxAgeMs: the traces stream keeps 7 days. */
export const DEFAULT_TRACES_STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** = transport's DEFAULT_STREAM_LIMITS.traces.maxBytes. */
export const DEFAULT_TRACES_STREAM_MAX_BYTES = 512 * 1024 ** 2;
/** = transport's DEFAULT_STREAM_LIMITS.alerts.maxAgeMs: the alerts stream keeps 30 days. */
export const DEFAULT_ALERTS_STREAM_MAX_AGE_MS = 30 * 24 * 3_600_000;
/** = transport's DEFAULT_STREAM_LIMITS.alerts.maxBytes. */
export const DEFAULT_ALERTS_STREAM_MAX_BYTES = 64 * 1024 ** 2;

/**
 * The traces and alerts streams' limits (`run`, `consumer`: the consumer
 * side creates and updates those streams; the agent only the events one),
 * each by age and size like the store's flags, oldest dropped first. A small
 * state dir (nats-server reserves every stream's max bytes up front) starts
 * with small values here.
 */
export function resultStreamFlags(): Option[] {
  return [
    durationOption("--traces-stream-max-age <duration>", "traces stream (JetStream): drop finished traces older than this", DEFAULT_TRACES_STREAM_MAX_AGE_MS),
    sizeOption("--traces-stream-max-size <size>", "traces stream (JetStream): drop the oldest beyond this size", DEFAULT_TRACES_STREAM_MAX_BYTES),
    durationOption("--alerts-stream-max-age <duration>", "alerts stream (JetStream): drop alerts older than this", DEFAULT_ALERTS_STREAM_MAX_AGE_MS),
    sizeOption("--alerts-stream-max-size <size>", "alerts stream (JetStream): drop the oldest beyond this size", DEFAULT_ALERTS_STREAM_MAX_BYTES),
  ];
}

/** The stream flags of every command that creates the streams (agent, run, consumer): the events horizon and the replicas. */
export function streamFlags(): Option[] {
  return [...eventsStreamFlags(), streamReplicasFlag()];
}

export const DEFAULT_METRICS_PORT = 9464;

/** `--metrics-port <port>` and `--no-metrics` (agent, run, consumer): Prometheus /metrics on 127.0.0.1. */
export function metricsFlags(): Option[] {
  return [
    new Option("--metrics-port <port>", "Prometheus /metrics port on 127.0.0.1").argParser(portOption).default(DEFAULT_METRICS_PORT),
    new Option("--no-metrics", "do not serve /metrics"),
  ];
}

/**
 * `--local`: print times in the machine's local zone. Every human output
 * prints UTC otherwise (src/text/human-time.ts), so lines from different
 * commands and machines compare by eye; JSON is always UTC.
 */
export function localTimeFlag(): Option {
  return new Option("--local", "print times in the local time zone instead of UTC");
}

/**
 * `-o, --output <format>`: `formats` are the ones this command prints (a
 * subset of OUTPUT_FORMATS, same meaning everywhere); `missing` says in the
 * help why the others are not offered.
 */
export function outputFlag<F extends OutputFormat>(formats: readonly F[], byDefault: F, missing?: string): Option {
  const o = new Option("-o, --output <format>", `output format${missing ? ` (${missing})` : ""}`).choices(formats).default(byDefault);
  // choices() alone would reject the aliases; keep its list for --help, parse here.
  return o.argParser((value: string): F => {
    const name = OUTPUT_ALIASES[value] ?? value;
    if ((formats as readonly string[]).includes(name)) return name as F;
    throw new BadFlagValueError(`expected one of ${formats.join(", ")}`);
  });
}

/** An integer flag value of at least 1 (`--last`). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new BadFlagValueError(`expected a positive integer, got "${value}"`);
  return n;
}

/** = query server's DEFAULT_API_HOST:DEFAULT_API_PORT: where `tcptrail run` listens unless told. */
export const DEFAULT_API_LISTEN = "127.0.0.1:7070";

/** An address to listen on, as --listen gives it. */
export interface ListenAddress {
  /** IPv4, IPv6 (without brackets) or a host name. */
  host: string;
  /** 0 picks a free port. */
  port: number;
}

const LISTEN_SYNTAX = "ADDRESS:PORT, e.g. 127.0.0.1:7070, [::1]:7070, 0.0.0.0:7070 or localhost:7070";
// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** "127.0.0.1:7070", "[::1]:7070", "localhost:0" → host and port. */
export function parseListenAddress(value: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const hostOk = host !== undefined && (m?.[1] !== undefined ? isIP(host) === 6 : isIP(host) === 4 || HOST_NAME.test(host));
  if (!m || !hostOk || port > 65535) throw new BadFlagValueError(`--listen must be ${LISTEN_SYNTAX}; got "${value}"`);
  return { host: host!, port };
}

/**
 * `--listen <address:port>`: where `run` serves the query API. Loopback by
 * default; any other address needs a token (--api-token-file or
 * TCPTRAIL_API_TOKEN), or `run` refuses to start.
 */
export function listenFlag(): Option {
  return new Option(
    "--listen <address:port>",
    "query API address; anything but loopback (127.0.0.0/8, ::1, localhost) needs --api-token-file or TCPTRAIL_API_TOKEN",
  )
    .argParser(parseListenAddress)
    .default(parseListenAddress(DEFAULT_API_LISTEN), DEFAULT_API_LISTEN);
}

/** Env TCPTRAIL_API_TOKEN: the API's bearer token itself, for `run` and the query commands alike (src/cli/api-token.ts reads it). */
export const API_TOKEN_ENV = `${ENV_PREFIX}API_TOKEN`;

/**
 * `--api-token-file <path>`: a file holding the query API's bearer token. The
 * same flag in `run` (the API requires it) and in the query commands (they
 * send it); it wins over TCPTRAIL_API_TOKEN. The file must not be readable by
 * group or others.
 */
export function apiTokenFileFlag(): Option {
  return new Option("--api-token-file <path>", `file holding the query API's bearer token (mode 600; default: $${API_TOKEN_ENV})`);
}

/**
 * `--api-allowed-host <name>`, repeatable: a name clients may address the API
 * by (its Host header) besides loopback and the listen address, e.g. the
 * node's DNS name. Every other Host is refused (the DNS-rebinding defence).
 */
export function apiAllowedHostFlag(): Option {
  return new Option("--api-allowed-host <name>", "a Host name the query API answers to besides loopback and its listen address (repeatable)").argParser(
    (value: string, previous: string[] | undefined): string[] => {
      const name = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
      if (isIP(name) === 0 && !HOST_NAME.test(name)) throw new BadFlagValueError(`--api-allowed-host must be a host name or an IP address; got "${value}"`);
      return [...(previous ?? []), name];
    },
  );
}

/**
 * `--state-dir` of the commands that read from NATS (observe, alerts): where
 * `tcptrail run` left its reader's credentials, used when no --nats-* is given.
 */
export function readerStateDirFlag(): Option {
  return stateDirFlag("tcptrail run's state directory: without --nats-* credentials, its reader's (<dir>/nats/reader.nk) are used");
}

/**
 * The NATS credentials and TLS flags (every command that connects to NATS:
 * agent, run with --nats, observe, alerts), each with its TCPTRAIL_NATS_*
 * variable. Secrets themselves only through the environment or a file: a
 * password on the command line is visible to every local user in `ps`, so
 * --nats-password is there for completeness and its help says so.
 * src/cli/nats-auth.ts turns the values into the transport's NatsAuthOptions.
 */
export function natsAuthFlags(): Option[] {
  const env = (name: string) => `${ENV_PREFIX}NATS_${name}`;
  return [
    new Option("--nats-creds <file>", "NATS .creds file (user JWT and nkey seed)").env(env("CREDS")),
    new Option("--nats-nkey <file>", "file holding a NATS nkey user seed (SU...)").env(env("NKEY")),
    new Option("--nats-user <name>", "NATS user name; the password from --nats-password-file or $TCPTRAIL_NATS_PASSWORD").env(env("USER")),
    new Option("--nats-password <password>", `NATS password (visible in ps: prefer $${env("PASSWORD")} or --nats-password-file)`).env(env("PASSWORD")),
    new Option("--nats-password-file <file>", "file holding the NATS password").env(env("PASSWORD_FILE")),
    new Option("--nats-token-file <file>", `file holding a NATS token (or the token itself in $${env("TOKEN")})`).env(env("TOKEN_FILE")),
    new Option("--nats-token <token>", "NATS token").env(env("TOKEN")).hideHelp(),
    new Option("--nats-tls-ca <file>", "PEM CA to verify the NATS server's certificate by (and use TLS)").env(env("TLS_CA")),
    new Option("--nats-tls-cert <file>", "PEM client certificate for mutual TLS with NATS (with --nats-tls-key)").env(env("TLS_CERT")),
    new Option("--nats-tls-key <file>", "PEM private key of --nats-tls-cert").env(env("TLS_KEY")),
  ];
}

/**
 * The OpenTelemetry SDKs' own variable, not a TCPTRAIL_ one: a cluster that
 * already sets it for its applications' tracing sets it for tcptrail too.
 */
export const OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT";

/**
 * The only variables a flag reads without the TCPTRAIL_ prefix: other
 * ecosystems' standard names, which users set once for all their programs.
 */
export const FOREIGN_ENV_VARS: readonly string[] = [OTLP_ENDPOINT_ENV];

/**
 * `--otlp-endpoint <url>`, env OTEL_EXPORTER_OTLP_ENDPOINT (`run`): export
 * every finished trace as OpenTelemetry spans over OTLP/HTTP protobuf to
 * this collector base URL (spans go to <url>/v1/traces, as in every OTel
 * SDK; OTEL_EXPORTER_OTLP_HEADERS apply). Unset: no export.
 */
export function otlpEndpointFlag(): Option {
  return new Option("--otlp-endpoint <url>", "export finished traces as OpenTelemetry spans over OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318")
    .env(OTLP_ENDPOINT_ENV)
    .argParser((value: string): string => {
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
        throw new BadFlagValueError(`--otlp-endpoint (or $${OTLP_ENDPOINT_ENV}) must be an http:// or https:// URL, like http://127.0.0.1:4318; got "${value}"`);
      }
      return value;
    });
}

/**
 * `--color <when>`, env TCPTRAIL_COLOR: colour in the compact and table
 * outputs (resets, FINs, outcomes), never in JSON. `auto` colours only a
 * terminal, and not when NO_COLOR is set (no-color.org, another ecosystem's
 * standard read as it is); `always` also colours a pipe (`| less -R`).
 * src/cli/color.ts decides.
 */
export const COLOR_MODES = ["auto", "always", "never"] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

export function colorFlag(): Option {
  return new Option("--color <when>", "colour compact and table output: auto (a terminal without $NO_COLOR), always, never")
    .choices(COLOR_MODES)
    .env(`${ENV_PREFIX}COLOR`)
    .default("auto");
}

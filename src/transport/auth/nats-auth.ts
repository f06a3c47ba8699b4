// How a tcptrail client proves who it is to NATS, and how it checks the
// server: one options type for every client (agent, consumer, `run`, the CLI)
// and one function turning it into @nats-io/transport-node connect options.
//
// Plain data only (paths and strings): the consumer side runs in a worker
// thread and gets its settings by structured clone.
//
// Files are read and checked here, before anything connects: a typo in a
// path or a seed pasted into the wrong file should be one sentence naming the
// flag, not an "Authorization Violation" after a 5 s connect timeout.
import { readFileSync, statSync } from "node:fs";
import { credsAuthenticator, nkeyAuthenticator, nkeys, type Authenticator, type ConnectionOptions } from "@nats-io/nats-core";
import { NatsAuthError } from "../errors.js";

/** TLS towards the server: a CA to verify it by, and a client certificate for mutual TLS. */
export interface NatsTlsOptions {
  /** PEM file of the CA(s) that signed the server's certificate. Default: the system's. */
  caFile?: string;
  /** PEM client certificate (mutual TLS); needs keyFile. */
  certFile?: string;
  /** PEM private key of certFile. */
  keyFile?: string;
}

/**
 * One way to authenticate (at most one of creds, nkey, user/password, token),
 * and optionally TLS. Fields with a `File` suffix are paths, read at connect
 * time; the others carry the secret itself (in-process clients of `run`'s
 * embedded server, and values read from the environment).
 */
export interface NatsAuthOptions {
  /** A .creds file: the user's JWT and its nkey seed (decentralized auth, `nsc generate creds`). */
  credsFile?: string;
  /** A file holding an nkey user seed ("SU..."). */
  nkeyFile?: string;
  /** The nkey user seed itself. */
  nkeySeed?: string;
  user?: string;
  /** With user. */
  password?: string;
  /** A file holding the password (first line; its final newline is not part of it). */
  passwordFile?: string;
  token?: string;
  /** A file holding the token. */
  tokenFile?: string;
  tls?: NatsTlsOptions;
  /**
   * Prefix of this client's reply subjects. Default "_INBOX". A role whose
   * permissions allow only its own inbox (`_INBOX_AGENT.>`) cannot read the
   * replies other clients get, which carry the messages their consumers fetch.
   */
  inboxPrefix?: string;
}

/** Where a credential came from, for messages: the flag name the CLI maps each field to. */
export const NATS_AUTH_FLAGS: Readonly<Record<keyof NatsAuthOptions | `tls.${keyof NatsTlsOptions}`, string>> = {
  credsFile: "--nats-creds",
  nkeyFile: "--nats-nkey",
  nkeySeed: "nkey seed",
  user: "--nats-user",
  password: "--nats-password",
  passwordFile: "--nats-password-file",
  token: "--nats-token",
  tokenFile: "--nats-token-file",
  tls: "--nats-tls-*",
  "tls.caFile": "--nats-tls-ca",
  "tls.certFile": "--nats-tls-cert",
  "tls.keyFile": "--nats-tls-key",
  inboxPrefix: "inbox prefix",
};

/** The auth-related part of @nats-io connect options. */
export type NatsAuthConnectOptions = Pick<ConnectionOptions, "authenticator" | "user" | "pass" | "token" | "tls" | "inboxPrefix">;

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;
const CREDS_JWT = /-----BEGIN NATS USER JWT-----\s*\n\s*(\S+)\s*\n/;
const CREDS_SEED = /-----BEGIN USER NKEY SEED-----\s*\n\s*(SU\S+)\s*\n/;

function readFileFor(flag: string, path: string): string {
  try {
    if (!statSync(path).isFile()) throw new NatsAuthError(`${flag} ${path} is not a regular file`, { property: flag });
    return readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof NatsAuthError) throw e;
    throw new NatsAuthError(`cannot read ${flag} ${path}: ${(e as Error).message}`, { property: flag, cause: e });
  }
}

/** The first non-empty line: a secret file's final newline (or a trailing blank line) is not part of the secret. */
function secretFrom(flag: string, path: string): string {
  const value = readFileFor(flag, path).split(/\r?\n/).find((l) => l.trim() !== "")?.trim();
  if (!value) throw new NatsAuthError(`${flag} ${path} is empty`, { property: flag });
  return value;
}

function checkedSeed(flag: string, seed: string): Uint8Array {
  const bytes = new TextEncoder().encode(seed.trim());
  try {
    // fromSeed checks the checksum and that it is a seed, not a public key.
    if (!nkeys.fromSeed(bytes).getPublicKey().startsWith("U")) throw new Error("not a user seed");
  } catch (e) {
    throw new NatsAuthError(`${flag} does not hold an nkey user seed (a line starting with "SU", as \`nk -gen user\` prints)`, { property: flag, cause: e });
  }
  return bytes;
}

function credsCheck(path: string): void {
  const flag = NATS_AUTH_FLAGS.credsFile;
  const text = readFileFor(flag, path);
  const seed = CREDS_SEED.exec(text)?.[1];
  if (!CREDS_JWT.test(text) || !seed) {
    throw new NatsAuthError(`${flag} ${path} is not a .creds file (a NATS USER JWT block and a USER NKEY SEED block)`, { property: flag });
  }
  checkedSeed(`${flag} ${path}`, seed);
}

function pemCheck(flag: string, path: string): void {
  if (!PEM.test(readFileFor(flag, path))) throw new NatsAuthError(`${flag} ${path} is not a PEM file (no "-----BEGIN ...-----" line)`, { property: flag });
}

function tlsOptions(tls: NatsTlsOptions): NonNullable<ConnectionOptions["tls"]> {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const [given, missing] = tls.certFile !== undefined ? ["tls.certFile", "tls.keyFile"] as const : ["tls.keyFile", "tls.certFile"] as const;
    throw new NatsAuthError(`${NATS_AUTH_FLAGS[given]} needs ${NATS_AUTH_FLAGS[missing]} (mutual TLS takes a certificate and its key)`, {
      property: NATS_AUTH_FLAGS[missing],
    });
  }
  const out: NonNullable<ConnectionOptions["tls"]> = {};
  for (const key of ["caFile", "certFile", "keyFile"] as const) {
    const path = tls[key];
    if (path === undefined) continue;
    pemCheck(NATS_AUTH_FLAGS[`tls.${key}`], path);
    // Paths, not contents: the client reads them again on each reconnect, so a rotated certificate is picked up.
    out[key] = path;
  }
  return out;
}

/** Which kinds of credentials were given; more than one is a mistake the server would resolve unpredictably. */
function kindsGiven(a: NatsAuthOptions): string[] {
  const kinds: string[] = [];
  if (a.credsFile !== undefined) kinds.push(NATS_AUTH_FLAGS.credsFile);
  if (a.nkeyFile !== undefined || a.nkeySeed !== undefined) kinds.push(NATS_AUTH_FLAGS.nkeyFile);
  if (a.user !== undefined) kinds.push(NATS_AUTH_FLAGS.user);
  if (a.token !== undefined || a.tokenFile !== undefined) kinds.push(NATS_AUTH_FLAGS.tokenFile);
  return kinds;
}

/**
 * The connect options for `auth`, with every file read and checked.
 * @throws NatsAuthError naming the flag when a file is missing, unreadable or
 * not what it should be, when a password comes without a user (or the other
 * way round), or when more than one kind of credential is given.
 */
export function natsAuthConnectOptions(auth: NatsAuthOptions = {}): NatsAuthConnectOptions {
  const kinds = kindsGiven(auth);
  if (kinds.length > 1) {
    throw new NatsAuthError(`give one kind of NATS credentials, not ${kinds.join(" and ")}`, { property: kinds[1]! });
  }
  const out: NatsAuthConnectOptions = {};
  if (auth.credsFile !== undefined) {
    const path = auth.credsFile;
    credsCheck(path);
    // A function: the file is read again on each (re)connect, so a renewed JWT is used without a restart.
    out.authenticator = credsAuthenticator(() => new TextEncoder().encode(readFileSync(path, "utf8")));
  } else if (auth.nkeyFile !== undefined || auth.nkeySeed !== undefined) {
    const seed =
      auth.nkeySeed !== undefined
        ? checkedSeed(NATS_AUTH_FLAGS.nkeySeed, auth.nkeySeed)
        : checkedSeed(`${NATS_AUTH_FLAGS.nkeyFile} ${auth.nkeyFile!}`, secretFrom(NATS_AUTH_FLAGS.nkeyFile, auth.nkeyFile!));
    out.authenticator = nkeyAuthenticator(seed) satisfies Authenticator;
  } else if (auth.token !== undefined || auth.tokenFile !== undefined) {
    const token = auth.tokenFile !== undefined ? secretFrom(NATS_AUTH_FLAGS.tokenFile, auth.tokenFile) : auth.token!;
    if (token === "") throw new NatsAuthError(`${NATS_AUTH_FLAGS.token} is empty`, { property: NATS_AUTH_FLAGS.token });
    out.token = token;
  }
  const hasPassword = auth.password !== undefined || auth.passwordFile !== undefined;
  if (auth.user !== undefined) {
    if (!hasPassword) {
      throw new NatsAuthError(`${NATS_AUTH_FLAGS.user} needs a password: ${NATS_AUTH_FLAGS.passwordFile} or $TCPTRAIL_NATS_PASSWORD`, {
        property: NATS_AUTH_FLAGS.passwordFile,
      });
    }
    out.user = auth.user;
    out.pass = auth.passwordFile !== undefined ? secretFrom(NATS_AUTH_FLAGS.passwordFile, auth.passwordFile) : auth.password!;
  } else if (hasPassword) {
    throw new NatsAuthError(`a NATS password needs ${NATS_AUTH_FLAGS.user}`, { property: NATS_AUTH_FLAGS.user });
  }
  if (auth.tls !== undefined) out.tls = tlsOptions(auth.tls);
  if (auth.inboxPrefix !== undefined) out.inboxPrefix = auth.inboxPrefix;
  return out;
}

/** Whether any credential or TLS setting was given (an empty object counts as none). */
export function hasNatsAuth(auth: NatsAuthOptions | undefined): boolean {
  if (!auth) return false;
  return kindsGiven(auth).length > 0 || auth.password !== undefined || auth.passwordFile !== undefined || auth.tls !== undefined;
}

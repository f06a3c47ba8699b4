// The NATS credentials of a command, from its --nats-* flags (flags.ts,
// natsAuthFlags) or, for the commands that read (observe, alerts) when none
// is given, the reader's seed `tcptrail run` leaves in its state directory:
// `tcptrail observe -f` in another shell of the same machine (as the same
// user, the file is 0600) then needs no flag, as before the embedded server
// required credentials. Plain data and node:fs only: files are checked by
// the transport when it connects (NatsAuthError names the flag).
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import type { NatsAuthOptions } from "../transport/auth/nats-auth.js";

/** commander's names for natsAuthFlags(). */
export interface NatsAuthFlagValues {
  natsCreds?: string;
  natsNkey?: string;
  natsUser?: string;
  natsPassword?: string;
  natsPasswordFile?: string;
  natsTokenFile?: string;
  natsToken?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

/** = transport's READER_SEED_FILE under the embedded server's dir (`<state-dir>/nats`), not imported: flags must stay light. */
export const READER_SEED_PATH = ["nats", "reader.nk"] as const;

const readable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The transport's auth options from the flags; undefined when none is given.
 * With `readerStateDir` and no credential flag, the reader's seed of the
 * `tcptrail run` using that state dir, when this user can read it.
 */
export function natsAuthFromFlags(given: NatsAuthFlagValues, readerStateDir?: string): NatsAuthOptions | undefined {
  // An empty variable counts as unset, as TCPTRAIL_API_TOKEN="" does.
  const v = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined && value !== "")) as NatsAuthFlagValues;
  const a: NatsAuthOptions = {
    ...(v.natsCreds !== undefined ? { credsFile: v.natsCreds } : {}),
    ...(v.natsNkey !== undefined ? { nkeyFile: v.natsNkey } : {}),
    ...(v.natsUser !== undefined ? { user: v.natsUser } : {}),
    // A file wins over the environment's password, as --api-token-file does over TCPTRAIL_API_TOKEN.
    ...(v.natsPasswordFile !== undefined ? { passwordFile: v.natsPasswordFile } : v.natsPassword !== undefined ? { password: v.natsPassword } : {}),
    ...(v.natsTokenFile !== undefined ? { tokenFile: v.natsTokenFile } : v.natsToken !== undefined ? { token: v.natsToken } : {}),
  };
  const credentials = Object.keys(a).length > 0;
  if (!credentials && readerStateDir !== undefined) {
    const seed = join(readerStateDir, ...READER_SEED_PATH);
    if (readable(seed)) a.nkeyFile = seed;
  }
  if (v.natsTlsCa !== undefined || v.natsTlsCert !== undefined || v.natsTlsKey !== undefined) {
    a.tls = {
      ...(v.natsTlsCa !== undefined ? { caFile: v.natsTlsCa } : {}),
      ...(v.natsTlsCert !== undefined ? { certFile: v.natsTlsCert } : {}),
      ...(v.natsTlsKey !== undefined ? { keyFile: v.natsTlsKey } : {}),
    };
  }
  return Object.keys(a).length > 0 ? a : undefined;
}

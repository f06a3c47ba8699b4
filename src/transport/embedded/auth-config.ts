// Credentials of `run`'s embedded nats-server: one nkey user per role (agent,
// consumer, reader), made fresh at every start, with the role's subject
// permissions (role-permissions.ts). The server's config holds only public
// keys; the seeds stay in this process and go to its own clients, except the
// reader's, written to a 0600 file for the CLI in another shell (`observe`,
// `alerts`) to find. No user means no connection: anonymous clients, and so
// anyone who could publish forged events to 127.0.0.1:4222, are refused.
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nkeys } from "@nats-io/nats-core";
import type { NatsAuthOptions } from "../auth/nats-auth.js";
import { NATS_ROLES, ROLE_INBOX_PREFIX, rolePermissions, type NatsRole, type RolePermissionsOptions } from "./role-permissions.js";

/** The config file nats-server reads (`-c`), in the embedded server's state dir. */
export const AUTH_CONFIG_FILE = "auth.conf";
/** The reader role's nkey seed, in the embedded server's state dir: what the CLI uses by default. */
export const READER_SEED_FILE = "reader.nk";

export interface EmbeddedNatsAuth {
  /** What each role's clients connect with (a seed and their inbox prefix). Plain data: crosses to worker threads. */
  roles: Record<NatsRole, NatsAuthOptions>;
  /** The server's config file (authorization only; the listen address and JetStream come from its command line). */
  configFile: string;
  /** The reader's seed file. */
  readerSeedFile: string;
}

/** The nats-server config text: one nkey user per role with its permissions. JSON is valid nats-server config. */
export function authConfigText(publicKeys: Record<NatsRole, string>, o: RolePermissionsOptions = {}): string {
  const permissions = rolePermissions(o);
  const users = NATS_ROLES.map((role) => ({ nkey: publicKeys[role], permissions: permissions[role] }));
  return `# Written by tcptrail at every start: one user per role (see docs/SECURITY.md). Do not edit.\nauthorization: ${JSON.stringify({ users }, null, 2)}\n`;
}

/** Write a file only its owner can read, also when it existed with a wider mode. */
async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/**
 * Make the roles' keys and write the config and the reader's seed into dir.
 * Called once per `run`: a server restarted by the supervisor reads the same file.
 */
export async function createEmbeddedAuth(dir: string, o: RolePermissionsOptions = {}): Promise<EmbeddedNatsAuth> {
  const seeds = {} as Record<NatsRole, string>;
  const publicKeys = {} as Record<NatsRole, string>;
  for (const role of NATS_ROLES) {
    const kp = nkeys.createUser();
    publicKeys[role] = kp.getPublicKey();
    seeds[role] = new TextDecoder().decode(kp.getSeed());
  }
  const configFile = join(dir, AUTH_CONFIG_FILE);
  const readerSeedFile = join(dir, READER_SEED_FILE);
  await writePrivate(configFile, authConfigText(publicKeys, o));
  await writePrivate(readerSeedFile, `${seeds.reader}\n`);
  const roles = {} as Record<NatsRole, NatsAuthOptions>;
  for (const role of NATS_ROLES) roles[role] = { nkeySeed: seeds[role], inboxPrefix: ROLE_INBOX_PREFIX[role] };
  return { roles, configFile, readerSeedFile };
}

// A nats-server in operator mode (decentralized auth), the way `nsc` sets one
// up, with the JWTs made here by @nats-io/jwt: an operator, a system account,
// and one account TCPTRAIL with JetStream, preloaded into the server's
// MEMORY resolver. Users are issued as `.creds` files (the decorated format
// `nsc generate creds` writes), so a test can hand one to `--nats-creds`.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  newScopedSigner,
  type KeyPair,
  type Permissions,
} from "@nats-io/jwt";
import { spawnNatsProcess, type NatsProcess } from "../../src/transport/embedded/nats-process.js";
import { freePort, type SubjectPermissions } from "../../src/transport/mod.js";

const NATS_SERVER = "/usr/sbin/nats-server";

/** The role of the account's scoped signing key for per-node agents. */
export const AGENT_SIGNER_ROLE = "agent";

export interface OperatorNats {
  url: string;
  process: NatsProcess;
  /** Issue a user of the TCPTRAIL account with these permissions; returns the path of its .creds file (0600). */
  creds(name: string, permissions: SubjectPermissions): Promise<string>;
  /**
   * Issue a user with the agent scoped signing key: the user JWT carries no
   * permissions, the server takes the key's template, in which `{{name()}}`
   * is the user's name (the node).
   */
  scopedCreds(name: string): Promise<string>;
  /** A well-formed user of an account this server does not know (another operator's). */
  strangerCreds(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The user JWT's permissions from role-permissions.ts's shape. */
export function jwtPermissions(p: SubjectPermissions): Permissions {
  return {
    pub: { allow: p.publish.allow, ...(p.publish.deny ? { deny: p.publish.deny } : {}) },
    sub: { allow: p.subscribe.allow, ...(p.subscribe.deny ? { deny: p.subscribe.deny } : {}) },
  };
}

/** No account limit: the library's defaults would allow no connection (conn 0) and no JetStream. */
const UNLIMITED = {
  conn: -1,
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  leaf: -1,
  wildcards: true,
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};

/**
 * Start the server in dir (its config, store, pid file and the .creds files
 * go there). agentTemplate: the scoped agent key's permissions, `{{name()}}`
 * standing for the node.
 */
export async function startOperatorNats(dir: string, agentTemplate: SubjectPermissions): Promise<OperatorNats> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const agentSigner = createAccount();
  const operatorJwt = await encodeOperator("tcptrail-test-operator", operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount("SYS", system, {}, { signer: operator });
  const accountJwt = await encodeAccount(
    "TCPTRAIL",
    account,
    { limits: UNLIMITED, signing_keys: [newScopedSigner(agentSigner, AGENT_SIGNER_ROLE, jwtPermissions(agentTemplate))] },
    { signer: operator },
  );
  // A system account is required: JetStream does not start in operator mode without one (nats-server 2.9: "system account not setup").
  const config = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
    "",
  ].join("\n");
  const configFile = join(dir, "operator.conf");
  await writeFile(configFile, config, { mode: 0o600 });
  const port = await freePort();
  const process = await spawnNatsProcess({
    binary: NATS_SERVER,
    storeDir: join(dir, "js"),
    pidFile: join(dir, "nats.pid"),
    host: "127.0.0.1",
    port,
    readyTimeoutMs: 10_000,
    configFile,
  });

  const write = async (name: string, jwt: string, kp: KeyPair): Promise<string> => {
    const path = join(dir, `${name}.creds`);
    await writeFile(path, fmtCreds(jwt, kp), { mode: 0o600 });
    return path;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    process,
    async creds(name, permissions) {
      const user = createUser();
      return write(name, await encodeUser(name, user, account, jwtPermissions(permissions)), user);
    },
    async scopedCreds(name) {
      const user = createUser();
      return write(name, await encodeUser(name, user, account.getPublicKey(), {}, { scopedUser: true, signer: agentSigner }), user);
    },
    async strangerCreds(name) {
      const user = createUser();
      return write(name, await encodeUser(name, user, createAccount(), { pub: { allow: [">"] }, sub: { allow: [">"] } }), user);
    },
    stop: () => process.stop(2000),
  };
}

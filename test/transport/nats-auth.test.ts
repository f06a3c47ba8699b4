// Every kind of NATS credential tcptrail's clients take, against a real
// nats-server configured for it (user/password, token, nkey, mutual TLS with
// a CA and certificates made here by openssl), and the files refused before
// any connection is tried. `.creds` (operator mode, JWTs) is tested against
// its own server in nats-creds.test.ts.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nkeys } from "@nats-io/nats-core";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnNatsProcess, type NatsProcess } from "../../src/transport/embedded/nats-process.js";
import {
  connectNats,
  freePort,
  isNatsAuthError,
  isNatsUnreachableError,
  natsAuthConnectOptions,
  type NatsAuthOptions,
  type NatsConnection,
} from "../../src/transport/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

const NATS_SERVER = "/usr/sbin/nats-server";
let dir: TempDir;
let servers: NatsProcess[] = [];
let clients: NatsConnection[] = [];
let n = 0;

beforeAll(async () => {
  dir = await makeTempDir("nats-auth");
});
afterEach(async () => {
  for (const nc of clients) await nc.close().catch(() => undefined);
  for (const s of servers) await s.stop(2000);
  clients = [];
  servers = [];
});
afterAll(async () => {
  await dir?.remove();
});

/** A file in the test's dir, mode 0600. */
async function file(name: string, text: string): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** A nats-server with `config`, on a free loopback port; stopped by pid after the test. */
async function server(config: string): Promise<string> {
  const id = `s${++n}`;
  await mkdir(join(dir.path, id), { recursive: true });
  const port = await freePort();
  const proc = await spawnNatsProcess({
    binary: NATS_SERVER,
    storeDir: join(dir.path, id, "js"),
    pidFile: join(dir.path, id, "pid"),
    host: "127.0.0.1",
    port,
    readyTimeoutMs: 10_000,
    configFile: await file(`${id}.conf`, config),
  });
  servers.push(proc);
  return `nats://127.0.0.1:${port}`;
}

/** Connect, round-trip a request to prove the session works, and keep it for cleanup. */
async function connects(url: string, auth?: NatsAuthOptions): Promise<true> {
  const nc = await connectNats(url, { ...(auth ? { auth } : {}), maxReconnectAttempts: 0, timeoutMs: 3000 });
  clients.push(nc);
  await nc.flush();
  return true;
}

async function refused(url: string, auth?: NatsAuthOptions): Promise<unknown> {
  const err = await connects(url, auth).catch((e: unknown) => e);
  expect(isNatsUnreachableError(err)).toBe(true);
  return err;
}

describe("NATS credentials against a server configured for them", () => {
  it("user and password (from a file or given), and a wrong one refused", async () => {
    const url = await server(`authorization { users: [ { user: "tt", password: "pw-from-test" } ] }`);
    expect(await connects(url, { user: "tt", passwordFile: await file("pw", "pw-from-test\n") })).toBe(true);
    expect(await connects(url, { user: "tt", password: "pw-from-test" })).toBe(true);
    const err = await refused(url, { user: "tt", password: "wrong" });
    expect((err as Error).message).toMatch(/refused the credentials/);
    await refused(url);
  });

  it("token from a file", async () => {
    const url = await server(`authorization { token: "tok-from-test" }`);
    expect(await connects(url, { tokenFile: await file("tok", "tok-from-test\n") })).toBe(true);
    await refused(url, { token: "other" });
    await refused(url);
  });

  it("nkey seed from a file, and another key refused", async () => {
    const kp = nkeys.createUser();
    const url = await server(`authorization { users: [ { nkey: "${kp.getPublicKey()}" } ] }`);
    expect(await connects(url, { nkeyFile: await file("user.nk", `${new TextDecoder().decode(kp.getSeed())}\n`) })).toBe(true);
    await refused(url, { nkeySeed: new TextDecoder().decode(nkeys.createUser().getSeed()) });
    await refused(url);
  });

  describe("mutual TLS with certificates made by openssl", () => {
    let pki: Record<"ca" | "serverCert" | "serverKey" | "clientCert" | "clientKey" | "otherCa", string>;
    beforeAll(async () => {
      const p = (f: string) => join(dir.path, f);
      const ssl = (args: string[]) => execa("openssl", args, { cwd: dir.path });
      const ca = async (name: string) =>
        ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${name}`, "-keyout", p(`${name}.key`), "-out", p(`${name}.pem`)]);
      const signed = async (name: string, ext: string) => {
        await ssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`)]);
        await writeFile(p(`${name}.ext`), ext);
        await ssl(["x509", "-req", "-in", p(`${name}.csr`), "-CA", p("tt-ca.pem"), "-CAkey", p("tt-ca.key"), "-CAcreateserial", "-days", "1", "-extfile", p(`${name}.ext`), "-out", p(`${name}.pem`)]);
        await chmod(p(`${name}.key`), 0o600);
      };
      await ca("tt-ca");
      await ca("other-ca");
      await signed("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
      await signed("client", "extendedKeyUsage=clientAuth\n");
      pki = {
        ca: p("tt-ca.pem"),
        serverCert: p("server.pem"),
        serverKey: p("server.key"),
        clientCert: p("client.pem"),
        clientKey: p("client.key"),
        otherCa: p("other-ca.pem"),
      };
    }, 60_000);

    const tlsConfig = () => `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true }`;

    it("connects with the CA and a client certificate signed by it", async () => {
      const url = await server(tlsConfig());
      expect(await connects(url, { tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey } })).toBe(true);
    });

    it("is refused without a client certificate, or when the server's is not from the CA given", async () => {
      const url = await server(tlsConfig());
      await refused(url, { tls: { caFile: pki.ca } });
      await refused(url);
      await refused(url, { tls: { caFile: pki.otherCa, certFile: pki.clientCert, keyFile: pki.clientKey } });
    });
  });
});

describe("credential files are checked before connecting", () => {
  // No server here: an error about the file, not "cannot reach", proves the check comes first.
  const NOWHERE = "nats://127.0.0.1:1";
  const authError = async (auth: NatsAuthOptions): Promise<Error> => {
    const err = await connectNats(NOWHERE, { auth, maxReconnectAttempts: 0, timeoutMs: 500 }).catch((e: unknown) => e);
    expect(isNatsAuthError(err)).toBe(true);
    return err as Error;
  };

  it("names the flag of a missing file", async () => {
    expect((await authError({ nkeyFile: join(dir.path, "absent.nk") })).message).toMatch(/^cannot read --nats-nkey .*absent\.nk/);
    expect((await authError({ user: "u", passwordFile: join(dir.path, "absent") })).message).toMatch(/--nats-password-file/);
    expect((await authError({ tls: { caFile: join(dir.path, "absent.pem") } })).message).toMatch(/--nats-tls-ca/);
  });

  it("refuses files that hold something else", async () => {
    const pub = nkeys.createUser().getPublicKey();
    expect((await authError({ nkeyFile: await file("pub.nk", `${pub}\n`) })).message).toMatch(/does not hold an nkey user seed/);
    expect((await authError({ credsFile: await file("bad.creds", "not a creds file\n") })).message).toMatch(/is not a \.creds file/);
    expect((await authError({ tls: { caFile: await file("ca.txt", "hello\n") } })).message).toMatch(/is not a PEM file/);
    expect((await authError({ tokenFile: await file("empty", "\n\n") })).message).toMatch(/--nats-token-file .* is empty/);
  });

  it("refuses contradictory combinations", async () => {
    expect((await authError({ user: "u" })).message).toMatch(/--nats-user needs a password/);
    expect((await authError({ password: "p" })).message).toMatch(/needs --nats-user/);
    expect((await authError({ tls: { certFile: "/x.pem" } })).message).toMatch(/--nats-tls-cert needs --nats-tls-key/);
    expect((await authError({ token: "t", user: "u", password: "p" })).message).toMatch(/give one kind of NATS credentials/);
  });

  it("accepts a well-formed .creds file (its JWT is the server's to judge)", async () => {
    const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    const creds = await file(
      "ok.creds",
      `-----BEGIN NATS USER JWT-----\neyJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    );
    expect(natsAuthConnectOptions({ credsFile: creds }).authenticator).toBeTypeOf("function");
  });
});

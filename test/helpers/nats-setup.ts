// A test's NATS world in one call, like nats.js's setup()/cleanup(): a private
// server, a client connected the way tcptrail connects, and (by default) the
// streams `tcptrail run` creates. close() undoes all of it, in reverse.
import {
  connectNats,
  ensureStreams,
  jetstream,
  jetstreamManager,
  type ConnectNatsOptions,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from "../../src/transport/mod.js";
import { startNatsServer, type TestNatsOptions, type TestNatsServer } from "./nats-server.js";

export interface NatsSetupOptions extends TestNatsOptions {
  /** Client options. Default: connectNats's, named "tcptrail-test". */
  connect?: ConnectNatsOptions;
  /** Create the tcptrail streams. Default true; false for tests of a missing stream. */
  streams?: boolean;
}

export interface NatsSetup {
  server: TestNatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Close the client, stop the server, remove its store. Idempotent. */
  close(): Promise<void>;
}

export async function setupNats(o: NatsSetupOptions = {}): Promise<NatsSetup> {
  const server = await startNatsServer(o);
  let nc: NatsConnection | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await nc?.close().catch(() => undefined);
      await server.close();
    })());
  try {
    nc = await connectNats(server.url, { name: "tcptrail-test", ...o.connect });
    const jsm = await jetstreamManager(nc);
    if (o.streams ?? true) await ensureStreams(jsm);
    return { server, nc, js: jetstream(nc), jsm, close };
  } catch (e) {
    await close();
    throw e;
  }
}

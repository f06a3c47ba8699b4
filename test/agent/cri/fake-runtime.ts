// A CRI RuntimeService served by grpc-js from the same generated code the
// resolver's client uses (proto/cri/runtime/v1/api.proto): the resolver's
// cases a real runtime cannot be made to show on demand (a pod whose
// namespace only its pid reaches, an outage, exact resync counts, a clock).
import { Server, ServerCredentials, status as grpcStatus, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { runtime } from "../../../src/gen/cri.js";

import v1 = runtime.v1;

export interface FakePod {
  id: string;
  namespace: string;
  name: string;
  uid: string;
  labels?: Record<string, string>;
  hostNetwork?: boolean;
  /** runtimeSpec.linux.namespaces[network].path in the verbose info (containerd's). */
  netnsPath?: string;
  /** The sandbox pid in the verbose info. */
  pid?: number;
  notReady?: boolean;
}

export interface FakeContainer {
  id: string;
  podSandboxId: string;
  name: string;
}

interface Codec<T> {
  encode(m: T): { finish(): Uint8Array };
  decode(b: Uint8Array): T;
}

function unary<Req, Res>(name: string, req: Codec<Req>, res: Codec<Res>) {
  return {
    path: `/runtime.v1.RuntimeService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: Req) => Buffer.from(req.encode(m).finish()),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: Res) => Buffer.from(res.encode(m).finish()),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

export class FakeRuntime {
  readonly pods = new Map<string, FakePod>();
  readonly containers = new Map<string, FakeContainer>();
  readonly calls = { version: 0, list: 0, status: 0, containers: 0 };
  /** While true every call fails with UNAVAILABLE (a runtime restarting). */
  down = false;
  #server = new Server();

  add(p: FakePod): void {
    this.pods.set(p.id, p);
  }

  addContainer(c: FakeContainer): void {
    this.containers.set(c.id, c);
  }

  async listen(socket: string): Promise<void> {
    const definition = {
      Version: unary("Version", v1.VersionRequest, v1.VersionResponse),
      ListPodSandbox: unary("ListPodSandbox", v1.ListPodSandboxRequest, v1.ListPodSandboxResponse),
      PodSandboxStatus: unary("PodSandboxStatus", v1.PodSandboxStatusRequest, v1.PodSandboxStatusResponse),
      ListContainers: unary("ListContainers", v1.ListContainersRequest, v1.ListContainersResponse),
    } as unknown as ServiceDefinition;
    const guard = <Req, Res>(fn: (req: Req) => Res) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      if (this.down) cb({ code: grpcStatus.UNAVAILABLE, details: "runtime restarting" });
      else {
        try {
          cb(null, fn(call.request));
        } catch (err) {
          cb({ code: grpcStatus.NOT_FOUND, details: (err as Error).message });
        }
      }
    };
    this.#server.addService(definition, {
      Version: guard(() => {
        this.calls.version++;
        return v1.VersionResponse.create({ version: "0.1.0", runtimeName: "fake", runtimeVersion: "1", runtimeApiVersion: "v1" });
      }),
      ListPodSandbox: guard((req: v1.ListPodSandboxRequest) => {
        this.calls.list++;
        const ready = (p: FakePod) => (p.notReady ? v1.PodSandboxState.SANDBOX_NOTREADY : v1.PodSandboxState.SANDBOX_READY);
        const want = req.filter?.state ? req.filter.state.state : undefined;
        return v1.ListPodSandboxResponse.create({
          items: [...this.pods.values()]
            .filter((p) => want === undefined || ready(p) === want)
            .map((p) => ({ id: p.id, metadata: { name: p.name, namespace: p.namespace, uid: p.uid }, state: ready(p), labels: p.labels ?? {} })),
        });
      }),
      ListContainers: guard(() => {
        this.calls.containers++;
        return v1.ListContainersResponse.create({
          containers: [...this.containers.values()].map((c) => ({ id: c.id, podSandboxId: c.podSandboxId, metadata: { name: c.name }, state: v1.ContainerState.CONTAINER_RUNNING })),
        });
      }),
      PodSandboxStatus: guard((req: v1.PodSandboxStatusRequest) => {
        this.calls.status++;
        const p = this.pods.get(req.podSandboxId);
        if (!p) throw new Error(`no sandbox ${req.podSandboxId}`);
        const namespaces = p.netnsPath ? [{ type: "pid" }, { type: "network", path: p.netnsPath }] : [{ type: "pid" }];
        const info = { ...(p.pid ? { pid: p.pid } : {}), runtimeSpec: { linux: { namespaces } } };
        return v1.PodSandboxStatusResponse.create({
          status: {
            id: p.id,
            metadata: { name: p.name, namespace: p.namespace, uid: p.uid },
            state: p.notReady ? v1.PodSandboxState.SANDBOX_NOTREADY : v1.PodSandboxState.SANDBOX_READY,
            labels: p.labels ?? {},
            linux: { namespaces: { options: { network: p.hostNetwork ? v1.NamespaceMode.NODE : v1.NamespaceMode.POD } } },
          },
          info: req.verbose ? { info: JSON.stringify(info) } : {},
        });
      }),
    });
    await new Promise<void>((resolve, reject) =>
      this.#server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.tryShutdown(() => resolve()));
  }
}

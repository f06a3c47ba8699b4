// A client of the container runtime's CRI RuntimeService (runtime.v1) over
// its unix socket: gRPC from @grpc/grpc-js, messages from the static code
// pbjs generates from proto/cri/runtime/v1/api.proto (npm run gen). Only the
// calls tcptrail makes, plus the ones its tests need to create pods and
// containers.
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { runtime } from "../../gen/cri.js";
import { CriCallError } from "./errors.js";

import v1 = runtime.v1;

/** containerd's CRI socket (its CRI plugin serves on the main socket). */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";
/** CRI-O's socket. */
export const CRIO_SOCKET = "/var/run/crio/crio.sock";
/** Where a CRI runtime is looked for, in this order, when none is named. */
export const DEFAULT_CRI_SOCKETS: readonly string[] = [CONTAINERD_SOCKET, CRIO_SOCKET];
/**
 * Each call's deadline. A runtime answers its local socket in milliseconds;
 * a hung one must not hold a resync (or the agent's start) for long.
 */
export const DEFAULT_CRI_CALL_TIMEOUT_MS = 5000;
/** The gRPC path prefix of the service: package runtime.v1, service RuntimeService. */
const SERVICE = "/runtime.v1.RuntimeService/";

export interface CriRuntimeClientOptions {
  /** Path of the runtime's unix socket (a "unix://" prefix is accepted). */
  socket: string;
  /** Deadline of each call in ms. Default DEFAULT_CRI_CALL_TIMEOUT_MS (5 s). */
  callTimeoutMs?: number;
}

/** A request type's encoder, as pbjs generates it. */
interface Encoder<T> {
  encode(message: T): { finish(): Uint8Array };
}

/** A response type's decoder, as pbjs generates it. */
interface Decoder<T> {
  decode(bytes: Uint8Array): T;
}

/** The socket path of a "unix://…" or plain path. */
export function socketPath(socket: string): string {
  return socket.replace(/^unix:\/\//, "");
}

export class CriRuntimeClient {
  readonly socket: string;
  readonly #client: Client;
  readonly #timeoutMs: number;

  constructor(o: CriRuntimeClientOptions) {
    this.socket = socketPath(o.socket);
    this.#timeoutMs = o.callTimeoutMs ?? DEFAULT_CRI_CALL_TIMEOUT_MS;
    // A unix socket has no authority: "localhost" is what crictl sends as :authority.
    this.#client = new Client(`unix://${this.socket}`, credentials.createInsecure(), {
      "grpc.default_authority": "localhost",
      // ListPodSandbox on a busy node and a verbose status (with the OCI spec) exceed the 4 MiB default.
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
    });
  }

  version(): Promise<v1.VersionResponse> {
    return this.#call("Version", v1.VersionRequest, v1.VersionResponse, { version: "v1" });
  }

  listPodSandbox(filter?: v1.PodSandboxFilter.$Properties): Promise<v1.ListPodSandboxResponse> {
    return this.#call("ListPodSandbox", v1.ListPodSandboxRequest, v1.ListPodSandboxResponse, filter ? { filter } : {});
  }

  podSandboxStatus(podSandboxId: string, verbose: boolean): Promise<v1.PodSandboxStatusResponse> {
    return this.#call("PodSandboxStatus", v1.PodSandboxStatusRequest, v1.PodSandboxStatusResponse, { podSandboxId, verbose });
  }

  /** Every container (any state, unless filtered): id, name, pod sandbox. */
  listContainers(filter?: v1.ContainerFilter.$Properties): Promise<v1.ListContainersResponse> {
    return this.#call("ListContainers", v1.ListContainersRequest, v1.ListContainersResponse, filter ? { filter } : {});
  }

  /** Creates and starts a pod sandbox (tests: the agent never creates pods). */
  async runPodSandbox(config: v1.PodSandboxConfig.$Properties, timeoutMs?: number): Promise<string> {
    const r = await this.#call("RunPodSandbox", v1.RunPodSandboxRequest, v1.RunPodSandboxResponse, { config }, timeoutMs);
    return r.podSandboxId ?? "";
  }

  async stopPodSandbox(podSandboxId: string, timeoutMs?: number): Promise<void> {
    await this.#call("StopPodSandbox", v1.StopPodSandboxRequest, v1.StopPodSandboxResponse, { podSandboxId }, timeoutMs);
  }

  async removePodSandbox(podSandboxId: string, timeoutMs?: number): Promise<void> {
    await this.#call("RemovePodSandbox", v1.RemovePodSandboxRequest, v1.RemovePodSandboxResponse, { podSandboxId }, timeoutMs);
  }

  /** Creates a container in a sandbox (tests: the agent never creates containers); its id. */
  async createContainer(podSandboxId: string, config: v1.ContainerConfig.$Properties, sandboxConfig: v1.PodSandboxConfig.$Properties, timeoutMs?: number): Promise<string> {
    const r = await this.#call("CreateContainer", v1.CreateContainerRequest, v1.CreateContainerResponse, { podSandboxId, config, sandboxConfig }, timeoutMs);
    return r.containerId ?? "";
  }

  async startContainer(containerId: string, timeoutMs?: number): Promise<void> {
    await this.#call("StartContainer", v1.StartContainerRequest, v1.StartContainerResponse, { containerId }, timeoutMs);
  }

  /** Stops a container, killing it after `graceSeconds`. */
  async stopContainer(containerId: string, graceSeconds: number, timeoutMs?: number): Promise<void> {
    await this.#call("StopContainer", v1.StopContainerRequest, v1.StopContainerResponse, { containerId, timeout: graceSeconds }, timeoutMs);
  }

  async removeContainer(containerId: string, timeoutMs?: number): Promise<void> {
    await this.#call("RemoveContainer", v1.RemoveContainerRequest, v1.RemoveContainerResponse, { containerId }, timeoutMs);
  }

  close(): void {
    this.#client.close();
  }

  #call<Req, Res>(method: string, req: Encoder<Req>, res: Decoder<Res>, argument: Req, timeoutMs = this.#timeoutMs): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.#client.makeUnaryRequest<Req, Res>(
        SERVICE + method,
        (m) => Buffer.from(req.encode(m).finish()),
        (b) => res.decode(b),
        argument,
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, value?: Res) => {
          if (err || value === undefined) {
            const why = err?.details || err?.message || "no response";
            reject(new CriCallError(`CRI ${method} on ${this.socket} failed: ${why}`, { method, socket: this.socket, ...(err ? { grpcCode: err.code, cause: err } : {}) }));
          } else {
            resolve(value);
          }
        },
      );
    });
  }
}

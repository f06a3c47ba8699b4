// deploy/kubernetes rendered as `kubectl kustomize` renders it (base and the
// hardened overlay), every object validated against the Kubernetes API's
// schemas, and the deployment's policy read from the rendered objects: what
// the agent needs from the host, privileged vs named capabilities, one NATS
// cluster with JetStream on files, the API kept inside the cluster, and every
// command line the containers run accepted by the real CLI.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import type { AgentCliOptions } from "../../src/cli/commands/agent.js";
import { ENV_PREFIX } from "../../src/cli/flags.js";
import { natsAuthFromFlags, type NatsAuthFlagValues } from "../../src/cli/nats-auth.js";
import { spawnNatsProcess } from "../../src/transport/embedded/nats-process.js";
import {
  EVENTS_STREAM,
  EventPublisher,
  NATS_ROLES,
  ROLE_INBOX_PREFIX,
  connectNats,
  ensureStreams,
  freePort,
  isNatsUnreachableError,
  jetstream,
  jetstreamManager,
  rolePermissions,
  type NatsConnection,
  type NatsRole,
  type SubjectPermissions,
} from "../../src/transport/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { schemaError } from "./k8s-schema.js";
import { deployDir, renderKustomization, type K8sObject } from "./kustomize.js";

// The shapes read below; the schema check has already vouched for them.
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; mountPropagation?: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
}
interface PodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  serviceAccountName?: string;
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  containers: Container[];
  volumes?: Volume[];
}
interface Workload extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec }; volumeClaimTemplates?: { metadata: { name: string } }[]; serviceName?: string };
}
interface Service extends K8sObject {
  spec: { type?: string; clusterIP?: string; selector: Record<string, string>; ports: { name?: string; port: number; targetPort?: string | number }[] };
}
interface PolicyPeer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: object;
  ipBlock?: object;
}
interface NetworkPolicy extends K8sObject {
  spec: { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[]; ingress?: { from?: PolicyPeer[]; ports?: { port: number }[] }[] };
}

const WORKLOAD_KINDS = new Set(["Deployment", "DaemonSet", "StatefulSet"]);
const HARDENED_CAPABILITIES = ["BPF", "PERFMON", "SYS_ADMIN", "SYS_RESOURCE", "SYS_PTRACE"];

const base = renderKustomization(deployDir("base"));
const hardened = renderKustomization(deployDir("overlays", "hardened"));

const ofKind = <T extends K8sObject>(objects: K8sObject[], kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];
const workloads = (objects: K8sObject[]): Workload[] => objects.filter((o) => WORKLOAD_KINDS.has(o.kind)) as Workload[];
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The one workload whose pods run `tcptrail <command>`. */
function runningCommand(objects: K8sObject[], command: string): { workload: Workload; container: Container } {
  const found = workloads(objects).flatMap((w) => w.spec.template.spec.containers.filter((c) => c.args?.[0] === command).map((container) => ({ workload: w, container })));
  expect(found, `workloads running tcptrail ${command}`).toHaveLength(1);
  return found[0]!;
}

const agentOf = (objects: K8sObject[]) => runningCommand(objects, "agent");
const apiOf = (objects: K8sObject[]) => runningCommand(objects, "run");

/** The NATS StatefulSet: the workload whose container listens on NATS's client port. */
function natsOf(objects: K8sObject[]): Workload {
  const found = ofKind<Workload>(objects, "StatefulSet").filter((s) => s.spec.template.spec.containers.some((c) => c.ports?.some((p) => p.containerPort === 4222)));
  expect(found).toHaveLength(1);
  return found[0]!;
}

function volumeFor(pod: PodSpec, mountPath: string): { mount: NonNullable<Container["volumeMounts"]>[number]; volume: Volume } {
  const mounts = pod.containers.flatMap((c) => c.volumeMounts ?? []).filter((m) => m.mountPath === mountPath);
  expect(mounts, `a mount at ${mountPath}`).toHaveLength(1);
  const volume = pod.volumes?.find((v) => v.name === mounts[0]!.name);
  expect(volume, `the volume of ${mountPath}`).toBeDefined();
  return { mount: mounts[0]!, volume: volume! };
}

/**
 * The container's args as the kubelet passes them: $(VAR) replaced by the
 * container's env, fieldRefs by the values the downward API would give.
 */
function expandedArgs(c: Container, fields: Record<string, string>): string[] {
  const env = new Map<string, string>();
  for (const e of c.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (path !== undefined) env.set(e.name, fields[path] ?? expect.unreachable(`no value for fieldRef ${path}`));
  }
  return (c.args ?? []).map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env.get(name) ?? whole));
}

/** What the real command line makes of `args`, its action swapped for one that keeps the options. */
async function parsedBy<T>(args: string[]): Promise<T> {
  const program = new Command().exitOverride();
  registerCommands(program);
  let given: T | undefined;
  for (const c of program.commands) c.action((o: T) => void (given = o));
  await program.parseAsync(args, { from: "user" });
  return given!;
}

/** The Secret the operator creates with every role's password (README, "Deploy to a cluster"). */
const USERS_SECRET = "tcptrail-nats-users";

interface NatsUser {
  user: string;
  /** The environment variable nats.conf names in place of the password. */
  password: { env: string };
  permissions: SubjectPermissions;
}

/**
 * The `users` of nats.conf's authorization block. It is JSON but for the
 * passwords, `$NAME` references to the environment: those become
 * `{"env": NAME}`, anything else that is not JSON fails the parse.
 */
function natsUsers(conf: string): NatsUser[] {
  const start = conf.indexOf("[", conf.indexOf("users:", conf.indexOf("authorization {")));
  expect(start, "an authorization { users: [...] } block").toBeGreaterThan(0);
  let depth = 0;
  let end = start;
  for (; end < conf.length; end++) {
    if (conf[end] === "[") depth++;
    else if (conf[end] === "]" && --depth === 0) break;
  }
  const json = conf.slice(start, end + 1).replace(/:\s*\$([A-Za-z_][A-Za-z0-9_]*)/g, ': {"env": "$1"}');
  return JSON.parse(json) as NatsUser[];
}

/** The role a tcptrail command plays on NATS (docs/SECURITY.md). */
const COMMAND_ROLE: Record<string, NatsRole> = { agent: "agent", run: "consumer", consumer: "consumer", observe: "reader", alerts: "reader" };

describe("deploy/kubernetes renders and validates against the Kubernetes schemas", () => {
  it.each([
    ["base", base],
    ["overlays/hardened", hardened],
  ])("%s: every object is valid", async (_name, objects) => {
    expect(objects.length).toBeGreaterThan(10);
    const errors = (await Promise.all(objects.map(schemaError))).filter((e) => e !== undefined);
    expect(errors).toEqual([]);
  });

  it("rejects a broken object: the validation can fail", async () => {
    const agent = agentOf(base).workload;
    const broken = structuredClone(agent);
    (broken.spec.template.spec as unknown as Record<string, unknown>).hostPID = "yes";
    expect(await schemaError(broken)).toContain("hostPID must be boolean");
    const nameless = structuredClone(agent);
    delete (nameless.spec.template.spec.containers[0] as Partial<Container>).name;
    expect(await schemaError(nameless)).toMatch(/containers\/0 must have required property '?name'?/);
    const wrongPort = structuredClone(natsOf(base));
    (wrongPort.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = "4222";
    expect(await schemaError(wrongPort)).toContain("containerPort must be integer");
  });

  it("places every namespaced object in the kustomization's namespace, which admits privileged pods", () => {
    const namespaces = ofKind(base, "Namespace");
    expect(namespaces).toHaveLength(1);
    const ns = namespaces[0]!;
    for (const o of base.filter((o) => o.kind !== "Namespace")) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(ns.metadata.name);
    // The agent shares the host's pid and network namespaces: baseline and restricted would refuse it.
    expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("privileged");
  });

  it("sets the tcptrail image by the kustomization's images entry and leaves NATS's alone", () => {
    const kustomization = parseYaml(readFileSync(deployDir("base", "kustomization.yaml"), "utf8")) as { images: { name: string; newName: string; newTag: string }[] };
    const entry = kustomization.images.find((i) => i.name === "tcptrail")!;
    for (const { container } of [agentOf(base), apiOf(base)]) expect(container.image).toBe(`${entry.newName}:${entry.newTag}`);
    expect(natsOf(base).spec.template.spec.containers[0]!.image).toBe("nats:2.10-alpine");
  });
});

describe("the agent DaemonSet", () => {
  const { workload: agent, container } = agentOf(base);
  const pod = agent.spec.template.spec;

  it("is a DaemonSet in the host's pid namespace (bpftrace's pids are its own namespace's) and network namespace", () => {
    expect(agent.kind).toBe("DaemonSet");
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(true);
    // hostNetwork with the node's resolver would not find the NATS service.
    expect(pod.dnsPolicy).toBe("ClusterFirstWithHostNet");
  });

  it("tolerates every taint, so every node has an agent", () => {
    expect(pod.tolerations).toContainEqual({ operator: "Exists" });
  });

  it("names its node from the downward API and publishes under it", () => {
    const nodeVar = container.env?.find((e) => e.valueFrom?.fieldRef?.fieldPath === "spec.nodeName");
    expect(nodeVar).toBeDefined();
    const args = container.args ?? [];
    expect(args[args.indexOf("--node") + 1]).toBe(`$(${nodeVar!.name})`);
  });

  it("mounts what it needs from the host: tracefs, BTF, cgroups, the CRI socket, and /run/netns with host-to-container propagation", () => {
    for (const path of ["/sys/kernel/tracing", "/sys/kernel/btf", "/sys/fs/cgroup", "/run/netns"]) {
      expect(volumeFor(pod, path).volume.hostPath?.path, path).toBe(path);
    }
    const netns = volumeFor(pod, "/run/netns");
    // Pods created after the agent started bind-mount their namespaces there: without propagation the agent never sees them.
    expect(netns.mount.mountPropagation).toBe("HostToContainer");
    const cri = pod.volumes?.find((v) => v.hostPath?.type === "Socket");
    expect(cri?.hostPath?.path).toMatch(/\.sock$/);
    expect(pod.containers.flatMap((c) => c.volumeMounts ?? []).some((m) => m.name === cri!.name)).toBe(true);
  });

  it("is privileged in the base and runs with exactly the named capabilities in the hardened overlay", () => {
    expect(container.securityContext?.privileged).toBe(true);
    const hard = agentOf(hardened).container.securityContext;
    expect(hard?.privileged).toBe(false);
    expect(hard?.capabilities?.drop).toEqual(["ALL"]);
    expect([...(hard?.capabilities?.add ?? [])].sort()).toEqual([...HARDENED_CAPABILITIES].sort());
  });

  it("differs between base and hardened in the agent's securityContext only", () => {
    const withoutAgentSecurity = (objects: K8sObject[]) =>
      objects.map((o) => {
        const copy = structuredClone(o) as Workload;
        if (WORKLOAD_KINDS.has(o.kind)) for (const c of copy.spec.template.spec.containers) if (c.args?.[0] === "agent") delete c.securityContext;
        return copy;
      });
    expect(withoutAgentSecurity(hardened)).toEqual(withoutAgentSecurity(base));
    expect(hardened).not.toEqual(base);
  });
});

describe("NATS", () => {
  const nats = natsOf(base);
  const pod = nats.spec.template.spec;
  const configMapName = pod.volumes?.find((v) => v.configMap)?.configMap?.name;
  const configMap = base.find((o) => o.kind === "ConfigMap" && o.metadata.name === configMapName) as (K8sObject & { data: Record<string, string> }) | undefined;
  const configPath = join(volumeFor(pod, "/etc/nats").mount.mountPath, "nats.conf");
  const conf = configMap?.data["nats.conf"] ?? "";

  it("is a 3-replica StatefulSet with a volume per server and JetStream on those volumes' files", () => {
    expect(nats.spec.replicas).toBe(3);
    expect(pod.containers[0]!.args).toEqual(["--config", configPath]);
    const dataMount = pod.containers[0]!.volumeMounts!.find((m) => nats.spec.volumeClaimTemplates?.some((t) => t.metadata.name === m.name));
    expect(dataMount).toBeDefined();
    const storeDir = /store_dir:\s*(\S+)/.exec(conf)?.[1];
    expect(storeDir?.startsWith(`${dataMount!.mountPath}/`)).toBe(true);
    expect(conf).toMatch(/max_file_store:\s*\S+/);
  });

  it("routes to every replica by its stable name under the headless service", () => {
    const headless = ofKind<Service>(base, "Service").find((s) => s.metadata.name === nats.spec.serviceName);
    expect(headless?.spec.clusterIP).toBe("None");
    const routes = [...conf.matchAll(/nats:\/\/([^:\s]+):6222/g)].map((m) => m[1]);
    expect(routes).toEqual(Array.from({ length: nats.spec.replicas! }, (_, i) => `${nats.metadata.name}-${i}.${headless!.metadata.name}`));
  });

  // nats-server is installed by deploy/setup.sh; `-t` only parses the file.
  const natsServer = spawnSync("nats-server", ["--version"]).status === 0;
  it.skipIf(!natsServer)("has a configuration nats-server accepts, and one it refuses when broken", () => {
    const serverName = pod.containers[0]!.env?.find((e) => e.name === "SERVER_NAME");
    expect(serverName?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    const check = (text: string) => spawnSync("sh", ["-c", 'f=$(mktemp) && cat > "$f" && nats-server -c "$f" -t; s=$?; rm -f "$f"; exit $s'], {
      input: text,
      // The roles' passwords as the Secret would give them: without them the config does not parse (an unknown $NAME).
      env: { ...process.env, SERVER_NAME: `${nats.metadata.name}-0`, ...Object.fromEntries(natsUsers(conf).map((u) => [u.password.env, `pw-${u.user}`])) },
      encoding: "utf8",
    });
    const ok = check(conf);
    expect(ok.status, ok.stderr).toBe(0);
    expect(check(conf.replace(/max_file_store:\s*\S+/, "max_file_store: lots")).status).not.toBe(0);
  });
});

describe("NATS users", () => {
  const nats = natsOf(base);
  const pod = nats.spec.template.spec;
  const configMapName = pod.volumes?.find((v) => v.configMap)?.configMap?.name;
  const conf = (base.find((o) => o.kind === "ConfigMap" && o.metadata.name === configMapName) as (K8sObject & { data: Record<string, string> }) | undefined)?.data["nats.conf"] ?? "";
  const users = natsUsers(conf);

  it("has one user per role with the permissions of role-permissions.ts (one agent user for every node)", () => {
    expect(users.map((u) => u.user)).toEqual([...NATS_ROLES]);
    const permissions = rolePermissions();
    for (const u of users) expect(u.permissions, u.user).toEqual(permissions[u.user as NatsRole]);
  });

  it("takes each password from the Secret the operator creates, required, so NATS never starts open", () => {
    const env = pod.containers[0]!.env ?? [];
    for (const u of users) {
      const ref = env.find((e) => e.name === u.password.env)?.valueFrom?.secretKeyRef;
      expect(ref, u.password.env).toEqual({ name: USERS_SECRET, key: u.user });
    }
    // The Secret holds real secrets: the operator creates it, the render never does.
    expect(base.filter((o) => o.kind === "Secret")).toEqual([]);
  });

  it("every NATS client in the manifests logs in as its command's role, with the password file of that role from the Secret", async () => {
    const clients = workloads(base).flatMap((w) => w.spec.template.spec.containers.filter((c) => c.args?.includes("--nats")).map((c) => ({ w, c })));
    expect(clients.map(({ c }) => c.args![0]).sort()).toEqual(["agent", "run"]);
    for (const { w, c } of clients) {
      const where = `${w.metadata.name} ${c.name}`;
      const opts = await parsedBy<NatsAuthFlagValues>(expandedArgs(c, { "spec.nodeName": "node-a", "metadata.namespace": "tcptrail" }));
      const auth = natsAuthFromFlags(opts);
      const role = COMMAND_ROLE[c.args![0]!]!;
      expect(auth, where).toEqual({ user: role, passwordFile: expect.any(String) });
      expect(users.some((u) => u.user === auth!.user), where).toBe(true);
      const { volume } = volumeFor(w.spec.template.spec, dirname(auth!.passwordFile!));
      // Its own role's key only, and the volume required.
      expect(volume.secret, where).toEqual({ secretName: USERS_SECRET, items: [{ key: role, path: basename(auth!.passwordFile!) }], defaultMode: expect.any(Number) });
      // No credential from the environment besides: one kind of credentials per client.
      expect((c.env ?? []).filter((e) => e.name.startsWith(`${ENV_PREFIX}NATS`)), where).toEqual([]);
    }
  });

  // The users as written, on a real nats-server (the passwords put in place of their $NAMEs): tcptrail's
  // clients with the manifests' flags can do their work, and the permissions hold.
  const natsServer = spawnSync("/usr/sbin/nats-server", ["--version"]).status === 0;
  it.skipIf(!natsServer)("work on a real nats-server: the agent publishes events and no traces, anonymous clients are refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tcptrail-k8s-users-"));
    const clients: NatsConnection[] = [];
    const port = await freePort();
    const block = conf.slice(conf.indexOf("authorization {"));
    const config = block.replace(/\$(TCPTRAIL_NATS_[A-Z]+_PASSWORD)/g, (_all, name: string) => JSON.stringify(`pw-${users.find((u) => u.password.env === name)!.user}`));
    await writeFile(join(dir, "nats.conf"), config);
    const server = await spawnNatsProcess({ binary: "/usr/sbin/nats-server", storeDir: join(dir, "js"), pidFile: join(dir, "pid"), host: "127.0.0.1", port, readyTimeoutMs: 10_000, configFile: join(dir, "nats.conf") });
    try {
      const url = `nats://127.0.0.1:${port}`;
      const login = async (role: NatsRole) => {
        await writeFile(join(dir, `${role}.pw`), `pw-${role}\n`, { mode: 0o600 });
        const nc = await connectNats(url, { auth: { user: role, passwordFile: join(dir, `${role}.pw`), inboxPrefix: ROLE_INBOX_PREFIX[role] }, maxReconnectAttempts: 0, timeoutMs: 3000 });
        clients.push(nc);
        return nc;
      };
      await ensureStreams(await jetstreamManager(await login("consumer")));
      const agent = await login("agent");
      const publisher = new EventPublisher({ js: jetstream(agent), node: "node-a", bootId: "b-k8s", agentStartUs: Date.now() * 1000 });
      publisher.push([{ seq: 1, kind: 1, tsNs: 1n, timeUs: 1, sock: "1" }]);
      expect((await publisher.close()).published).toBe(1);
      await expect(jetstream(agent).publish("tcptrail.v1.traces.completed", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
      const reader = await jetstreamManager(await login("reader"));
      expect((await reader.streams.info(EVENTS_STREAM)).state.messages).toBe(1);
      const anonymous = await connectNats(url, { maxReconnectAttempts: 0, timeoutMs: 2000 }).catch((e: unknown) => e);
      expect(isNatsUnreachableError(anonymous)).toBe(true);
    } finally {
      for (const nc of clients) await nc.close().catch(() => undefined);
      await server.stop(2000);
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("the consumer and API Deployment", () => {
  const { workload: api, container } = apiOf(base);

  it("runs `tcptrail run --no-agent` on the cluster's NATS, listening on every address with a token from a Secret", async () => {
    const namespace = api.metadata.namespace!;
    const args = expandedArgs(container, { "metadata.namespace": namespace });
    const opts = await parsedBy<RunCliOptions>(args);
    const job = mainJobOptions(opts, silentLogger);
    expect(job.agentEnabled).toBe(false);
    expect(job).toMatchObject({ apiHost: "0.0.0.0", apiPort: 7070 });
    // The NATS URL names the NATS client Service on one of its ports.
    const nats = new URL(job.natsUrl!);
    const service = ofKind<Service>(base, "Service").find((s) => s.metadata.name === nats.hostname);
    expect(service?.spec.ports.map((p) => p.port)).toContain(Number(nats.port));
    expect(selects(service!.spec.selector, natsOf(base).spec.template.metadata.labels)).toBe(true);
    // The API answers only Host names it knows: the Service's, in this namespace.
    const apiService = ofKind<Service>(base, "Service").find((s) => selects(s.spec.selector, api.spec.template.metadata.labels))!;
    expect(job.apiAllowedHosts).toEqual(expect.arrayContaining([apiService.metadata.name, `${apiService.metadata.name}.${namespace}.svc`]));
    const token = container.env?.find((e) => e.name === `${ENV_PREFIX}API_TOKEN`);
    expect(token?.valueFrom?.secretKeyRef?.name).toBeTruthy();
  });

  it("is one replica, replaced rather than rolled (a SQLite store on a ReadWriteOnce volume)", () => {
    expect(api.spec.replicas).toBe(1);
    expect((api.spec as { strategy?: { type: string } }).strategy?.type).toBe("Recreate");
    const claim = volumeFor(api.spec.template.spec, opts().stateDir).volume.persistentVolumeClaim?.claimName;
    expect(base.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === claim)).toBe(true);
    function opts(): { stateDir: string } {
      const args = container.args ?? [];
      return { stateDir: args[args.indexOf("--state-dir") + 1]! };
    }
  });

  it("is reached through a Service that is not exposed outside the cluster by default", () => {
    const services = ofKind<Service>(base, "Service").filter((s) => selects(s.spec.selector, api.spec.template.metadata.labels));
    expect(services).toHaveLength(1);
    expect(services[0]!.spec.type ?? "ClusterIP").toBe("ClusterIP");
  });
});

describe("every workload", () => {
  it("the agent's command line is one the real CLI accepts, with the NATS URL of the cluster's NATS Service", async () => {
    const { container } = agentOf(base);
    const opts = await parsedBy<AgentCliOptions>(expandedArgs(container, { "spec.nodeName": "node-a" }));
    expect(opts.node).toBe("node-a");
    const url = new URL(opts.nats);
    const service = ofKind<Service>(base, "Service").find((s) => s.metadata.name === url.hostname);
    expect(service?.spec.ports.map((p) => p.port)).toContain(Number(url.port));
  });

  it.each([
    ["base", base],
    ["overlays/hardened", hardened],
  ])("%s: has CPU and memory requests and a memory limit on every container", (_name, objects) => {
    const containers = workloads(objects).flatMap((w) => w.spec.template.spec.containers.map((c) => ({ where: `${w.kind} ${w.metadata.name} ${c.name}`, c })));
    expect(containers.length).toBe(3);
    for (const { where, c } of containers) {
      expect(c.resources?.requests?.cpu, where).toBeTruthy();
      expect(c.resources?.requests?.memory, where).toBeTruthy();
      expect(c.resources?.limits?.memory, where).toBeTruthy();
    }
  });

  it("runs under a ServiceAccount of its own that mounts no API token (nothing calls the Kubernetes API), with no Role granted", () => {
    const accounts = ofKind(base, "ServiceAccount") as (K8sObject & { automountServiceAccountToken?: boolean })[];
    for (const w of workloads(base)) {
      const account = accounts.find((a) => a.metadata.name === w.spec.template.spec.serviceAccountName);
      expect(account, w.metadata.name).toBeDefined();
      expect(account!.automountServiceAccountToken).toBe(false);
    }
    expect(base.filter((o) => /Role/.test(o.kind))).toEqual([]);
  });

  it("is selected by its own selector, and every Service selects the pods of some workload on a port they name", () => {
    for (const w of workloads(base)) expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels), w.metadata.name).toBe(true);
    for (const s of ofKind<Service>(base, "Service")) {
      const target = workloads(base).find((w) => selects(s.spec.selector, w.spec.template.metadata.labels));
      expect(target, s.metadata.name).toBeDefined();
      const named = target!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of s.spec.ports) {
        if (typeof p.targetPort === "string") expect(named.map((n) => n.name), `${s.metadata.name} ${p.targetPort}`).toContain(p.targetPort);
      }
    }
  });

  it("refers only to ConfigMaps and claims that the render contains", () => {
    for (const w of workloads(base)) {
      for (const v of w.spec.template.spec.volumes ?? []) {
        if (v.configMap) expect(base.some((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap!.name), v.name).toBe(true);
        if (v.persistentVolumeClaim) expect(base.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === v.persistentVolumeClaim!.claimName), v.name).toBe(true);
      }
    }
  });
});

describe("NetworkPolicies", () => {
  const policies = ofKind<NetworkPolicy>(base, "NetworkPolicy");
  const selecting = (labels: Record<string, string>) => policies.filter((p) => selects(p.spec.podSelector.matchLabels, labels));

  it("deny ingress to every pod of the namespace unless a policy lets it in", () => {
    expect(policies.some((p) => Object.keys(p.spec.podSelector.matchLabels ?? {}).length === 0 && p.spec.policyTypes.includes("Ingress") && !p.spec.ingress)).toBe(true);
  });

  it("select the API pods and admit cluster pods on the API port only", () => {
    const { workload: api, container } = apiOf(base);
    const mine = selecting(api.spec.template.metadata.labels);
    expect(mine).toHaveLength(1);
    const ports = mine[0]!.spec.ingress!.flatMap((r) => r.ports ?? []).map((p) => p.port);
    expect(ports).toEqual(container.ports!.map((p) => p.containerPort));
  });

  it("select the NATS pods and admit the cluster port from NATS pods only", () => {
    const nats = natsOf(base);
    const mine = selecting(nats.spec.template.metadata.labels);
    expect(mine).toHaveLength(1);
    const clusterRules = mine[0]!.spec.ingress!.filter((r) => r.ports?.some((p) => p.port === 6222));
    expect(clusterRules).toHaveLength(1);
    expect(clusterRules[0]!.from?.every((peer) => selects(peer.podSelector?.matchLabels, nats.spec.template.metadata.labels) && !peer.namespaceSelector && !peer.ipBlock)).toBe(true);
    // The monitoring port is admitted to nobody.
    expect(mine[0]!.spec.ingress!.flatMap((r) => r.ports ?? []).map((p) => p.port)).not.toContain(8222);
  });
});

describe("the image", () => {
  const dockerfile = readFileSync(join(deployDir(), "..", "image", "Dockerfile"), "utf8");
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it("runs on Debian 13 with its bpftrace and Node.js, and the built CLI as entry point", () => {
    const final = stages[stages.length - 1]!;
    expect(final.split("\n")[0]).toMatch(/^debian:trixie(-slim)?\b/);
    expect(final).toMatch(/apt-get install[^\n]*\bbpftrace\b/);
    expect(final).toMatch(/apt-get install[^\n]*\bnodejs\b/);
    expect(final).toMatch(/ENTRYPOINT \["\/app\/bin\/tcptrail"\]/);
    // The agent finds probes/tcptrail.bt next to its installation.
    expect(final).toMatch(/COPY probes \.\/probes/);
  });

  it("copies only paths that exist in the repository (tracked by git)", () => {
    const root = join(deployDir(), "..", "..");
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    const tracked = execFileSync("git", ["ls-files", "--", ...sources], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);
    for (const s of sources) expect(tracked.some((f) => f === s || f.startsWith(`${s.replace(/\/$/, "")}/`)), s).toBe(true);
  });
});

// A small kustomize renderer for the tests, so deploy/kubernetes is rendered
// and validated offline with no kubectl on the machine. It renders only the
// subset deploy/kubernetes uses, the way `kubectl kustomize` does, and throws
// on everything else instead of guessing:
//   - resources: YAML files (one or more documents) and directories that hold
//     a kustomization.yaml (rendered first, recursively); no URLs
//   - namespace: set on every namespaced object; a Namespace object must carry
//     that very name (kustomize versions differ in renaming one that does not)
//   - labels: `pairs` added to every object's metadata.labels, with
//     includeSelectors and includeTemplates false (true would also touch
//     selectors and templates: not rendered here)
//   - images: name → newName / newTag / digest on containers and initContainers
//   - patches: `path:` to a strategic-merge patch that names its target by
//     apiVersion, kind and metadata.name (no `target:`, no inline `patch:`, no
//     JSON 6902). Maps merge key by key, null deletes; lists merge by their
//     Kubernetes patch merge key where this renderer knows it (containers and
//     initContainers by name, env and volumes by name, volumeMounts by
//     mountPath, container ports by containerPort) and are replaced where the
//     Kubernetes API declares them atomic and this renderer knows it; any
//     other list, and every `$patch` directive, throws.
// Transformers run in kustomize's order: patches, namespace, labels, images.
// Objects come out in resource order (kustomize sorts them, Namespace first).
import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

export class UnsupportedKustomizeError extends Error {
  override name = "UnsupportedKustomizeError";
}

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function isK8sObject(v: unknown): v is K8sObject {
  if (!isJson(v) || typeof v.apiVersion !== "string" || typeof v.kind !== "string") return false;
  return isJson(v.metadata) && typeof v.metadata.name === "string" && v.metadata.name !== "";
}

/** Kinds this renderer knows to be cluster-scoped; every other known kind is namespaced. */
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "PriorityClass"]);
const NAMESPACED = new Set([
  "ConfigMap",
  "Secret",
  "Service",
  "ServiceAccount",
  "PersistentVolumeClaim",
  "Deployment",
  "DaemonSet",
  "StatefulSet",
  "NetworkPolicy",
  "Role",
  "PodDisruptionBudget",
]);

const KUSTOMIZATION_KEYS = new Set(["apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"]);

/** Renders the kustomization in `dir` (a directory holding kustomization.yaml). */
export function renderKustomization(dir: string): K8sObject[] {
  const file = join(dir, "kustomization.yaml");
  const k = parseOne(file);
  if (!isJson(k) || k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") {
    throw new UnsupportedKustomizeError(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  }
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_KEYS.has(key)) throw new UnsupportedKustomizeError(`${file}: "${key}" is not rendered by this renderer`);
  }
  let objects: K8sObject[] = [];
  for (const entry of list(k.resources, `${file}: resources`)) {
    if (typeof entry !== "string" || /^[a-z]+:\/\//i.test(entry) || entry.startsWith("github.com/")) {
      throw new UnsupportedKustomizeError(`${file}: resource ${JSON.stringify(entry)} is not a local path`);
    }
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readObjects(path)));
  }
  checkUnique(objects, file);
  for (const patch of list(k.patches, `${file}: patches`)) objects = applyPatchEntry(objects, patch, dir, file);
  if (k.namespace !== undefined) setNamespace(objects, k.namespace, file);
  for (const label of list(k.labels, `${file}: labels`)) addLabels(objects, label, file);
  for (const image of list(k.images, `${file}: images`)) setImage(objects, image, file);
  return objects;
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new UnsupportedKustomizeError(`${where} must be a list`);
  return v;
}

function parseOne(file: string): unknown {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  if (docs.length !== 1) throw new UnsupportedKustomizeError(`${file}: expected one YAML document, found ${docs.length}`);
  const doc = docs[0]!;
  if ("errors" in doc && doc.errors.length) throw doc.errors[0]!;
  return doc.toJS();
}

/** Every document of a resource file, each a Kubernetes object. */
export function readObjects(file: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if ("errors" in doc && doc.errors.length) throw doc.errors[0]!;
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document (a trailing ---)
    if (!isK8sObject(value)) throw new UnsupportedKustomizeError(`${file}: a document without apiVersion, kind and metadata.name`);
    if (!CLUSTER_SCOPED.has(value.kind) && !NAMESPACED.has(value.kind)) {
      throw new UnsupportedKustomizeError(`${file}: kind ${value.kind} is not known to this renderer (is it namespaced?)`);
    }
    out.push(value);
  }
  return out;
}

const idOf = (o: K8sObject): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

function checkUnique(objects: K8sObject[], where: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = idOf(o);
    if (seen.has(id)) throw new UnsupportedKustomizeError(`${where}: ${id} appears twice (kustomize refuses that too)`);
    seen.add(id);
  }
}

function applyPatchEntry(objects: K8sObject[], entry: unknown, dir: string, file: string): K8sObject[] {
  if (!isJson(entry) || Object.keys(entry).join() !== "path" || typeof entry.path !== "string") {
    throw new UnsupportedKustomizeError(`${file}: only patches of the form {path: FILE} are rendered, got ${JSON.stringify(entry)}`);
  }
  const patchFile = resolve(dir, entry.path);
  const patch = parseOne(patchFile);
  if (!isK8sObject(patch)) throw new UnsupportedKustomizeError(`${patchFile}: a strategic-merge patch names its target by apiVersion, kind and metadata.name`);
  const matches = objects.filter(
    (o) =>
      o.apiVersion === patch.apiVersion &&
      o.kind === patch.kind &&
      o.metadata.name === patch.metadata.name &&
      (patch.metadata.namespace === undefined || patch.metadata.namespace === o.metadata.namespace),
  );
  if (matches.length !== 1) {
    throw new UnsupportedKustomizeError(`${patchFile}: ${patch.kind} ${patch.metadata.name} matches ${matches.length} resources, not one`);
  }
  const target = matches[0]!;
  const merged = strategicMerge(target, patch, [], patchFile) as K8sObject;
  return objects.map((o) => (o === target ? merged : o));
}

/** Lists merged by their Kubernetes patch merge key, by the field name and (where it matters) the parent. */
function mergeKeyOf(path: string[]): string | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  if (field === "containers" || field === "initContainers") return "name";
  if (field === "env" || field === "volumes") return "name";
  if (field === "volumeMounts") return "mountPath";
  // Container ports merge by containerPort; a Service's by port (not rendered here).
  if (field === "ports" && parent !== "spec") return "containerPort";
  return undefined;
}

/** Lists the Kubernetes API declares atomic (no patch strategy): a patch replaces them whole. */
const ATOMIC_LISTS = new Set(["add", "drop", "args", "command", "tolerations", "accessModes"]);

function strategicMerge(base: unknown, patch: unknown, path: string[], file: string): unknown {
  if (isJson(patch)) {
    if (!isJson(base)) return stripNulls(patch, path, file);
    const out: Json = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith("$")) throw new UnsupportedKustomizeError(`${file}: directive ${key} at ${[...path, key].join(".")} is not rendered`);
      if (value === null) delete out[key];
      else out[key] = strategicMerge(base[key], value, [...path, key], file);
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = mergeKeyOf(path);
    const field = path[path.length - 1] ?? "";
    if (key === undefined) {
      if (!ATOMIC_LISTS.has(field)) throw new UnsupportedKustomizeError(`${file}: list at ${path.join(".")}: its merge strategy is not known to this renderer`);
      return stripNulls(patch, path, file);
    }
    const merged: unknown[] = Array.isArray(base) ? [...base] : [];
    for (const item of patch) {
      if (!isJson(item) || item[key] === undefined) throw new UnsupportedKustomizeError(`${file}: an item of ${path.join(".")} without its merge key ${key}`);
      const at = merged.findIndex((b) => isJson(b) && b[key] === item[key]);
      if (at < 0) merged.push(stripNulls(item, path, file));
      else merged[at] = strategicMerge(merged[at], item, path, file);
    }
    return merged;
  }
  return patch;
}

/** A patch value added where the base has nothing: its nulls and directives mean nothing there. */
function stripNulls(v: unknown, path: string[], file: string): unknown {
  if (Array.isArray(v)) return v.map((x) => stripNulls(x, path, file));
  if (!isJson(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith("$")) throw new UnsupportedKustomizeError(`${file}: directive ${k} at ${path.join(".")} is not rendered`);
    if (x !== null) out[k] = stripNulls(x, [...path, k], file);
  }
  return out;
}

function setNamespace(objects: K8sObject[], namespace: unknown, file: string): void {
  if (typeof namespace !== "string" || namespace === "") throw new UnsupportedKustomizeError(`${file}: namespace must be a name`);
  for (const o of objects) {
    if (o.kind === "Namespace") {
      if (o.metadata.name !== namespace) throw new UnsupportedKustomizeError(`${file}: Namespace ${o.metadata.name} differs from namespace: ${namespace}`);
    } else if (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") {
      throw new UnsupportedKustomizeError(`${file}: ${o.kind} subjects' namespaces are not rendered`);
    } else if (!CLUSTER_SCOPED.has(o.kind)) {
      o.metadata = { ...o.metadata, namespace };
    }
  }
}

function addLabels(objects: K8sObject[], entry: unknown, file: string): void {
  if (!isJson(entry) || !isJson(entry.pairs)) throw new UnsupportedKustomizeError(`${file}: labels entries need pairs`);
  for (const key of Object.keys(entry)) {
    if (key === "pairs") continue;
    if ((key === "includeSelectors" || key === "includeTemplates") && entry[key] === false) continue;
    throw new UnsupportedKustomizeError(`${file}: labels ${key}: ${JSON.stringify(entry[key])} is not rendered`);
  }
  const pairs: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry.pairs)) {
    if (typeof v !== "string") throw new UnsupportedKustomizeError(`${file}: label ${k} must be a string`);
    pairs[k] = v;
  }
  for (const o of objects) o.metadata = { ...o.metadata, labels: { ...o.metadata.labels, ...pairs } };
}

function setImage(objects: K8sObject[], entry: unknown, file: string): void {
  if (!isJson(entry) || typeof entry.name !== "string") throw new UnsupportedKustomizeError(`${file}: images entries need a name`);
  for (const key of Object.keys(entry)) {
    if (!["name", "newName", "newTag", "digest"].includes(key)) throw new UnsupportedKustomizeError(`${file}: images ${key} is not rendered`);
  }
  const { name, newName, newTag, digest } = entry as { name: string; newName?: string; newTag?: string; digest?: string };
  const visit = (v: unknown, field?: string): void => {
    if (Array.isArray(v)) {
      for (const item of v) {
        if ((field === "containers" || field === "initContainers") && isJson(item) && typeof item.image === "string") {
          item.image = retag(item.image, name, newName, newTag, digest);
        }
        visit(item);
      }
    } else if (isJson(v)) {
      for (const [k, x] of Object.entries(v)) visit(x, k);
    }
  };
  for (const o of objects) visit(o);
}

/** `image` with the name `name` renamed and retagged; any other image unchanged. */
function retag(image: string, name: string, newName?: string, newTag?: string, digest?: string): string {
  const m = /^(.+?)(?::([^:/@]+))?(?:@(.+))?$/.exec(image);
  if (!m || m[1] !== name) return image;
  const repo = newName ?? m[1];
  if (digest !== undefined) return `${repo}@${digest}`;
  if (newTag !== undefined) return `${repo}:${newTag}`;
  return `${repo}${m[2] !== undefined ? `:${m[2]}` : ""}${m[3] !== undefined ? `@${m[3]}` : ""}`;
}

export const deployDir = (...parts: string[]): string => resolve(dirname(new URL(import.meta.url).pathname), "../../deploy/kubernetes", ...parts);

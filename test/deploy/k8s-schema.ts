// Validates Kubernetes objects against the Kubernetes API's own OpenAPI
// schemas, offline: kubernetes-models ships them compiled to ajv validators,
// one class per apiVersion and kind. Types, required fields, enums and
// formats are checked; the OpenAPI schemas allow fields they do not name, so
// a misspelt field passes here (the policy tests read the fields that matter
// by their right names, so a misspelling fails those instead).
import type { K8sObject } from "./kustomize.js";

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** "apps/v1" + "DaemonSet" → "kubernetes-models/apps/v1/DaemonSet"; core "v1" → "kubernetes-models/v1/Service". */
function modulePath(apiVersion: string, kind: string): string {
  if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    throw new Error(`not an apiVersion and kind: ${apiVersion} ${kind}`);
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

export class UnknownKindError extends Error {
  override name = "UnknownKindError";
}

async function modelOf(o: Pick<K8sObject, "apiVersion" | "kind">): Promise<ModelClass> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath(o.apiVersion, o.kind))) as Record<string, unknown>;
  } catch (err) {
    throw new UnknownKindError(`no Kubernetes schema for ${o.apiVersion} ${o.kind}`, { cause: err });
  }
  const model = mod[o.kind];
  if (typeof model !== "function") throw new UnknownKindError(`no Kubernetes schema for ${o.apiVersion} ${o.kind}`);
  return model as ModelClass;
}

/** The schema's complaint about `o`, or undefined when it is valid. @throws UnknownKindError for a kind the API does not have. */
export async function schemaError(o: K8sObject): Promise<string | undefined> {
  const Model = await modelOf(o);
  try {
    new Model(o).validate();
    return undefined;
  } catch (err) {
    return `${o.kind} ${o.metadata?.name}: ${(err as Error).message}`;
  }
}

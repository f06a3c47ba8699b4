// `--label key=value` filters: a pod's labels (from the container runtime,
// carried in each batch's pod directory) must contain every pair given. The
// same flag repeated is an AND here, unlike --pod's OR, as in a Kubernetes
// equality selector (`-l app=web,tier=front`): each pair narrows the pods.
import type { PodLabels } from "../model/mod.js";
import { InvalidFilterError } from "./errors.js";

/** Label pairs that must all be present, in the order given. */
export type LabelSelector = readonly (readonly [key: string, value: string])[];

/** Kubernetes label keys: an optional DNS-subdomain prefix and "/", then a name of up to 63 characters. */
const KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** Kubernetes label values: empty, or up to 63 characters starting and ending alphanumeric. */
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Parse `key=value` flag values; a value may also be a comma-separated list
 * (`app=web,tier=front`), as kubectl's -l takes it.
 * @throws InvalidFilterError
 */
export function parseLabelSelector(values: readonly string[] | undefined, flag = "--label"): LabelSelector {
  const out: [string, string][] = [];
  for (const value of values ?? []) {
    for (const part of value.split(",")) {
      const eq = part.indexOf("=");
      const key = eq < 0 ? "" : part.slice(0, eq).trim();
      const v = eq < 0 ? "" : part.slice(eq + 1).trim();
      if (eq < 0 || !KEY.test(key) || !VALUE.test(v)) throw InvalidFilterError.invalid(flag, value, "expected key=value (a Kubernetes label)");
      out.push([key, v]);
    }
  }
  return out;
}

/** Does a pod with `labels` carry every pair of the selector (an empty selector matches anything)? */
export function labelsMatch(selector: LabelSelector, labels: PodLabels | null | undefined): boolean {
  if (selector.length === 0) return true;
  if (labels == null) return false;
  for (const [k, v] of selector) if (labels[k] !== v) return false;
  return true;
}

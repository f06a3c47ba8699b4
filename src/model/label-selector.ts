// Label selectors, kubectl's equality form (`app=web,tier=front`): every pair
// must be on the pod. One grammar for observe --label, traces --label and the
// API's `label` parameter; each caller turns a bad pair into its own usage error.
import type { PodLabels } from "./event-wire.js";

/** Label pairs that must all be present, in the order given. */
export type LabelSelector = readonly (readonly [key: string, value: string])[];

/** Kubernetes label keys: an optional DNS-subdomain prefix and "/", then a name of up to 63 characters. */
const KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** Kubernetes label values: empty, or up to 63 characters starting and ending alphanumeric. */
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export const LABEL_SELECTOR_SYNTAX = "key=value (a Kubernetes label), several comma-separated";

/**
 * The pairs of `key=value` values, each of which may be a comma-separated list.
 * Returns the first value that is not a label pair as `{ bad }`.
 */
export function parseLabelPairs(values: readonly string[] | undefined): LabelSelector | { bad: string } {
  const out: [string, string][] = [];
  for (const value of values ?? []) {
    for (const part of value.split(",")) {
      const eq = part.indexOf("=");
      const key = eq < 0 ? "" : part.slice(0, eq).trim();
      const v = eq < 0 ? "" : part.slice(eq + 1).trim();
      if (eq < 0 || !KEY.test(key) || !VALUE.test(v)) return { bad: value };
      out.push([key, v]);
    }
  }
  return out;
}

/** Does a pod with `labels` carry every pair of the selector (an empty selector matches anything)? */
export function labelsMatch(selector: LabelSelector, labels: PodLabels | { readonly [k: string]: string } | null | undefined): boolean {
  if (selector.length === 0) return true;
  if (labels == null) return false;
  for (const [k, v] of selector) if (labels[k] !== v) return false;
  return true;
}

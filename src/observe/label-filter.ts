// `--label key=value` filters: a pod's labels (from the container runtime,
// carried in each batch's pod directory) must contain every pair given. The
// same flag repeated is an AND here, unlike --pod's OR, as in a Kubernetes
// equality selector (`-l app=web,tier=front`): each pair narrows the pods.
import { LABEL_SELECTOR_SYNTAX, labelsMatch, parseLabelPairs, type LabelSelector } from "../model/label-selector.js";
import { InvalidFilterError } from "./errors.js";

export { labelsMatch, type LabelSelector };

/**
 * Parse `key=value` flag values; a value may also be a comma-separated list
 * (`app=web,tier=front`), as kubectl's -l takes it.
 * @throws InvalidFilterError
 */
export function parseLabelSelector(values: readonly string[] | undefined, flag = "--label"): LabelSelector {
  const parsed = parseLabelPairs(values);
  if ("bad" in parsed) throw InvalidFilterError.invalid(flag, parsed.bad, `expected ${LABEL_SELECTOR_SYNTAX}`);
  return parsed;
}

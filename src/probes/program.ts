// Where the probe programs live, whether we run from src/ (tests) or dist/.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ProgramMissingError } from "./errors.js";

/** Repository root: the directory holding probes/ (src/probes → ../..; dist/src/probes → ../../..). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "probes", "tcptrail.bt"))) return dir;
    dir = resolve(dir, "..");
  }
  throw new ProgramMissingError("cannot find probes/tcptrail.bt next to the tcptrail installation: reinstall it (deploy/setup.sh)");
}

/** The tracepoint program every kernel tcptrail supports runs. */
export function defaultProgramPath(): string {
  return join(repoRoot(), "probes", "tcptrail.bt");
}

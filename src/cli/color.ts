// Whether a command colours its output (--color, src/cli/flags.ts). Decided
// once per command from where stdout goes: colour codes in a file or in a
// pipe to grep are noise, so `auto` colours a terminal only, and NO_COLOR
// (https://no-color.org: set and not empty) turns it off; an explicit
// `always` wins over both.
import type { ColorMode } from "./flags.js";

export interface ColorTarget {
  isTTY?: boolean;
}

export function useColor(mode: ColorMode, out: ColorTarget = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (mode === "always") return true;
  if (mode === "never") return false;
  return out.isTTY === true && !env.NO_COLOR;
}

// Where an agent run's high-water record lives: one small JSON file per run
// under the agent's state dir, replaced atomically (write, then rename) so
// that a crash mid-save leaves the previous save, never half a file. One file
// per run, not per node, so that a record the next start could not publish
// yet (NATS down) is not overwritten by that start's own saves.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { isHighWaterRecord, type HighWaterRecord } from "./unpublished-ledger.js";

const PREFIX = "unpublished-";

// Node names are DNS labels in practice; anything else is kept out of the file name.
const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, "_");

export function highWaterPath(dir: string, r: Pick<HighWaterRecord, "node" | "bootId" | "agentStartUs">): string {
  return join(dir, `${PREFIX}${safe(r.node)}-${safe(r.bootId)}-${r.agentStartUs}.json`);
}

export function saveHighWater(dir: string, record: HighWaterRecord): void {
  mkdirSync(dir, { recursive: true });
  const path = highWaterPath(dir, record);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(record));
  renameSync(tmp, path);
}

export function removeHighWater(dir: string, record: HighWaterRecord): void {
  rmSync(highWaterPath(dir, record), { force: true });
}

/** The records of earlier runs of `node` in `dir`; an unreadable file is logged and left for a human. */
export function listHighWater(dir: string, node: string, log: Logger): HighWaterRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no state dir yet: no earlier run
  }
  const out: HighWaterRecord[] = [];
  const mine = `${PREFIX}${safe(node)}-`;
  for (const name of names) {
    if (!name.startsWith(mine) || !name.endsWith(".json")) continue;
    const path = join(dir, name);
    try {
      const v: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (isHighWaterRecord(v) && v.node === node) out.push(v);
      else log.warn({ path }, "ignoring an agent high-water file that is not a record of this node");
    } catch (err) {
      log.warn({ err, path }, "ignoring an unreadable agent high-water file");
    }
  }
  return out.sort((a, b) => a.agentStartUs - b.agentStartUs);
}

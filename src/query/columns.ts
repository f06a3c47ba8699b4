// Left-aligned text columns for terminal tables; the last column is not
// padded so lines carry no trailing spaces. Widths count what the terminal
// shows: colour codes (./render-color.ts) take no columns.
import { stripColor } from "./render-color.js";

const width = (c: string): number => [...stripColor(c)].length;

export function formatColumns(rows: string[][], gap = "  "): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, width(c))));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i]! - width(c)))).join(gap).trimEnd())
    .join("\n");
}

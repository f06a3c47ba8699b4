// Left-aligned text columns for terminal tables; the last column is not
// padded so lines carry no trailing spaces.

export function formatColumns(rows: string[][], gap = "  "): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i]! - [...c].length))).join(gap).trimEnd())
    .join("\n");
}

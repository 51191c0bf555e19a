// The markdown table of the energy-based experiment (the host line is src/node/host.ts, the
// plot the shared line chart of src/train/plot.ts).

/** A markdown table: a header row, the separator, one row per entry. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

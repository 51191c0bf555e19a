// Shared pieces of the energy-based experiment: the host line printed beside every table, a
// markdown table, and a log-log line chart as a self-contained SVG.
import { cpus, loadavg } from "node:os";
import { escapeXml } from "../../src/train/plot.js";

/** CPU model, cores and load average: timings depend on them (the machine may be shared). */
export function hostLine(): string {
  const cpu = cpus();
  const load = loadavg().map((v) => v.toFixed(2)).join(", ");
  return `host: ${cpu[0]?.model.trim() ?? "unknown cpu"}, ${cpu.length} cores, load average ${load}; Node ${process.version}`;
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export interface LogLogSeries {
  label: string;
  points: [number, number][];
  dashed?: boolean;
  /** Colour of the series (default its position); series that share one differ by dash. */
  colour?: number;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/** A log-log line chart: one polyline with markers per series, decade ticks, a legend. */
export function logLogSvg(series: LogLogSeries[], o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const width = o.width ?? 720;
  const height = o.height ?? 440;
  const left = 78, right = width - 230, top = 44, bottom = height - 52;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y));
  const decades = (values: number[]) => [Math.floor(Math.log10(Math.min(...values))), Math.ceil(Math.log10(Math.max(...values)))];
  const [x0, x1] = all.length ? decades(all.map((p) => p[0])) : [0, 1];
  const [y0, y1raw] = all.length ? decades(all.map((p) => p[1])) : [0, 1];
  const y1 = Math.max(y1raw, y0 + 1);
  const sx = (x: number) => left + ((Math.log10(x) - x0) / Math.max(x1 - x0, 1)) * (right - left);
  const sy = (y: number) => bottom - ((Math.log10(y) - y0) / (y1 - y0)) * (bottom - top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${(left + right) / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(o.title)}</text>`,
  ];
  for (let d = x0; d <= x1; d++)
    out.push(`<line x1="${sx(10 ** d)}" y1="${top}" x2="${sx(10 ** d)}" y2="${bottom}" stroke="#ddd"/>`,
      `<text x="${sx(10 ** d)}" y="${bottom + 18}" text-anchor="middle">1e${d}</text>`);
  for (let d = y0; d <= y1; d++)
    out.push(`<line x1="${left}" y1="${sy(10 ** d)}" x2="${right}" y2="${sy(10 ** d)}" stroke="#ddd"/>`,
      `<text x="${left - 8}" y="${sy(10 ** d) + 4}" text-anchor="end">1e${d}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`,
    `<text x="${(left + right) / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[(s.colour ?? i) % COLOURS.length];
    const points = s.points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(y));
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(`<g class="series"><polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`);
    for (const [x, y] of points) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${colour}"/>`);
    const ly = top + 14 + i * 20;
    out.push(`<line x1="${right + 14}" y1="${ly}" x2="${right + 40}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${right + 46}" y="${ly + 4}">${escapeXml(s.label)}</text></g>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

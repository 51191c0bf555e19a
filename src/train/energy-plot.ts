// Energy per inference step as a self-contained SVG: one line per run (e.g. the energy of a
// query while it relaxes, or of IL's inference on one batch), log scale when the values span
// more than two decades.
import { escapeXml, niceTicks } from "./plot.js";

export interface EnergySeries {
  label: string;
  /** Energy at step 0 (before the first update), 1, 2, ... */
  energies: number[];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
const f2 = (v: number) => Number(v.toFixed(2)).toString();

export function energyCurvesSvg(series: EnergySeries[], options: { title?: string; width?: number; height?: number; yLabel?: string } = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const left = 70, right = width - 150, top = 40, bottom = height - 46;
  const values = series.flatMap((s) => s.energies).filter((v) => Number.isFinite(v));
  const positive = values.length > 0 && values.every((v) => v > 0);
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const log = positive && hi / lo > 100;
  const t = (v: number) => (log ? Math.log10(v) : v);
  const ticks = log
    ? Array.from({ length: Math.ceil(Math.log10(hi)) - Math.floor(Math.log10(lo)) + 1 }, (_, i) => Math.floor(Math.log10(lo)) + i)
    : niceTicks(Math.min(0, lo), hi, 6);
  const yMin = ticks[0], yMax = ticks[ticks.length - 1];
  const steps = Math.max(1, ...series.map((s) => s.energies.length - 1));
  const sx = (step: number) => left + (step / steps) * (right - left);
  const sy = (v: number) => bottom - ((t(v) - yMin) / (yMax - yMin || 1)) * (bottom - top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${f2((left + right) / 2)}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title ?? "Energy per inference step")}</text>`,
  ];
  for (const tick of ticks) {
    const y = f2(log ? bottom - ((tick - yMin) / (yMax - yMin || 1)) * (bottom - top) : sy(tick));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${log ? `1e${tick}` : tick}</text>`);
  }
  for (const tick of niceTicks(0, steps, 6).filter((s) => s <= steps)) {
    out.push(`<text x="${f2(sx(tick))}" y="${bottom + 16}" text-anchor="middle" font-size="11">${tick}</text>`);
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<text x="${f2((left + right) / 2)}" y="${height - 10}" text-anchor="middle" font-size="12">inference step</text>`);
  out.push(`<text x="16" y="${f2((top + bottom) / 2)}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${f2((top + bottom) / 2)})">${escapeXml(options.yLabel ?? "energy per sample")}${log ? " (log)" : ""}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = s.energies.map((v, step) => (Number.isFinite(v) && (!log || v > 0) ? `${f2(sx(step))},${f2(sy(v))}` : null)).filter(Boolean);
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(" ")}"/>`);
    out.push(`<line x1="${right + 12}" y1="${top + 10 + 18 * i}" x2="${right + 32}" y2="${top + 10 + 18 * i}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${right + 38}" y="${top + 10 + 18 * i}" dominant-baseline="middle" font-size="12">${escapeXml(s.label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

// Energy per inference step as an SVG, on the shared line chart (plot.ts): one line per run
// (e.g. the energy of a query while it relaxes, or of IL's inference on one batch), with
// log10 of the energy on the y axis when the values span more than two decades.
import { lineChartSvg } from "./plot.js";

/** One run's energy per inference step, drawn as one line. */
export interface EnergySeries {
  label: string;
  /** Energy at step 0 (before the first update), 1, 2, ... */
  energies: number[];
}

/** An SVG of energy per inference step, one line per series (log scale when it spans over two decades). */
export function energyCurvesSvg(series: EnergySeries[], options: { title?: string; subtitle?: string; yLabel?: string } = {}): string {
  const values = series.flatMap((s) => s.energies).filter((v) => Number.isFinite(v));
  const log = values.length > 0 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) > 100;
  const yLabel = options.yLabel ?? "energy per sample";
  return lineChartSvg(
    [{ title: "", series: series.map((s) => s.energies.map((e, step): [number, number] => [step, log ? Math.log10(e) : e])) }],
    {
      title: options.title ?? "Energy per inference step", subtitle: options.subtitle, labels: series.map((s) => s.label),
      xLabel: "inference step", yLabel: log ? `log10 ${yLabel}` : yLabel, panelWidth: 560, panelHeight: 320,
    },
  );
}

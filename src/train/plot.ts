// Training curves as a self-contained SVG: loss per epoch and accuracy per epoch side by
// side, one line per run. Runs that coincide (Z-IL and BP) stay visible because each series
// has its own colour, width and dash pattern, with the first drawn widest underneath.
import type { EpochRecord, History } from "./fit.js";

/** One run's history, drawn as one colour in `trainingCurvesSvg`. */
export interface CurveSeries {
  label: string;
  history: History;
}

/** Title and size of the SVG. */
export interface PlotOptions {
  title?: string;
  /** Total size in pixels (default 960 x 440). */
  width?: number;
  height?: number;
  /** Which loss to draw (default "train"; "test" needs test records). */
  loss?: "train" | "test";
  /** Which accuracy to draw (default "test" when every run has it, else "train"). */
  accuracy?: "train" | "test";
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const DASHES = ["", "7 5", "2 4", "10 4 2 4"];
const WIDTHS = [4.5, 2.2, 2, 2];

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** About `count` round tick values covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [0, 1];
  if (high - low < 1e-12) {
    const pad = Math.abs(low) > 1e-12 ? Math.abs(low) * 0.1 : 1;
    return niceTicks(low - pad, high + pad, count);
  }
  const rough = (high - low) / Math.max(count - 1, 1);
  const magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let v = Math.floor(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < high - step * 1e-9) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** Enough decimals to tell ticks `step` apart. */
function formatTick(value: number, step: number): string {
  let decimals = 0;
  while (decimals < 8 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6 * step * 10 ** decimals) decimals++;
  return value.toFixed(decimals);
}

function epochTicks(maxEpoch: number): number[] {
  if (maxEpoch <= 1) return [1];
  const step = Math.max(1, Math.ceil(niceTicks(1, maxEpoch, 8)[1] - niceTicks(1, maxEpoch, 8)[0]));
  const ticks = [1];
  for (let e = step; e <= maxEpoch; e += step) if (e > 1) ticks.push(e);
  return ticks;
}

interface Panel {
  title: string;
  yLabel: string;
  points: ([number, number][])[];
  percent: boolean;
  /** The x axis: its label, first value and ticks (training curves: epochs from 1). */
  xLabel: string;
  xMin: number;
  xTicks(maxX: number): number[];
  /** Smallest y range shown, so that small differences are not drawn large. */
  minYSpan?: number;
  /** A fixed y range instead of one fitted to the data. */
  yRange?: [number, number];
  /** Logarithmic x axis (every x > 0). */
  logX?: boolean;
  /** Logarithmic y axis (points with y <= 0 are left out). */
  logY?: boolean;
  /** Style overrides per series (by index). */
  styles?: (SeriesStyle | undefined)[];
}

/** How one series is drawn; anything left out follows the series' position. */
export interface SeriesStyle {
  colour?: string;
  dash?: string;
  width?: number;
}

function styleOf(i: number, override?: SeriesStyle): Required<SeriesStyle> {
  return {
    colour: override?.colour ?? COLOURS[i % COLOURS.length],
    dash: override?.dash ?? DASHES[i % DASHES.length],
    width: override?.width ?? WIDTHS[i % WIDTHS.length],
  };
}

/** Ticks 1, 2, 5 x 10^k within [low, high], for a logarithmic axis. */
export function logTicks(low: number, high: number): number[] {
  const ticks: number[] = [];
  if (!(low > 0) || !(high >= low)) return ticks;
  for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e++)
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9)) ticks.push(v);
    }
  return ticks;
}

/**
 * Ticks of a logarithmic axis over [low, high]: 1, 2, 5 x 10^k over at most three decades,
 * the powers of ten alone over more (so the labels do not crowd).
 */
export function logAxisTicks(low: number, high: number): number[] {
  if (!(low > 0) || !(high >= low)) return [];
  if (Math.log10(high / low) <= 3) return logTicks(low, high);
  const ticks: number[] = [];
  for (let e = Math.ceil(Math.log10(low) - 1e-9); e <= Math.floor(Math.log10(high) + 1e-9); e++) ticks.push(Number((10 ** e).toPrecision(12)));
  return ticks;
}

/** A tick label on a log axis: plain between 0.001 and 10,000, else 1e-6 style. */
function logTickLabel(v: number): string {
  if (v >= 1e-3 && v < 1e4) return String(v);
  const [mantissa, exponent] = v.toExponential().split("e");
  return `${mantissa}e${Number(exponent)}`;
}

/** The 1, 2, 5 x 10^k value at or below v (at or above with `up`); powers of ten only with `decades`. */
function logStop(v: number, up: boolean, decades: boolean): number {
  const e = Math.floor(Math.log10(v));
  const stops = (decades ? [1, 10] : [1, 2, 5, 10]).map((m) => Number((m * 10 ** e).toPrecision(12)));
  const tolerance = 1e-9 * v;
  return up ? stops.find((s) => s >= v - tolerance)! : stops.filter((s) => s <= v + tolerance).pop()!;
}

function num(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/** A y axis: its ticks, their labels and the map from a value to a fraction of the height (0 at the bottom). */
interface YAxis {
  ticks: number[];
  label(tick: number): string;
  fraction(value: number): number;
}

function linearYAxis(panel: Panel): YAxis {
  const values = panel.points.flat().map((p) => p[1]);
  let low = values.length ? Math.min(...values) : 0;
  let high = values.length ? Math.max(...values) : 1;
  if (panel.yRange) [low, high] = panel.yRange;
  else if (panel.percent) {
    low = Math.max(0, low);
    high = Math.min(100, high);
    // One epoch (or a flat curve): a band of one point around the value, inside 0..100.
    if (high - low < 1e-9) [low, high] = [Math.max(0, low - 1), Math.min(100, high + 1)];
  } else low = Math.min(0, low);
  if (panel.minYSpan !== undefined && high - low < panel.minYSpan) {
    const middle = (high + low) / 2;
    low = middle - panel.minYSpan / 2;
    high = middle + panel.minYSpan / 2;
    if (panel.percent && low < 0) [low, high] = [0, panel.minYSpan];
    if (panel.percent && high > 100) [low, high] = [100 - panel.minYSpan, 100];
  }
  let ticks = niceTicks(low, high, 6);
  // Every nice step divides 100, so the ticks that cover [low, high] lie within 0..100.
  if (panel.percent) ticks = ticks.filter((t) => t >= 0 && t <= 100);
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  return { ticks, label: (t) => formatTick(t, step), fraction: (v) => (v - yMin) / (yMax - yMin || 1) };
}

/** A log y axis from the 1, 2, 5 x 10^k stop below the smallest positive value to the one above the largest (powers of ten over more than three decades). */
function logYAxis(panel: Panel): YAxis {
  const values = panel.points.flat().map((p) => p[1]).filter((v) => v > 0 && Number.isFinite(v));
  let [low, high] = panel.yRange ?? [values.length ? Math.min(...values) : 1, values.length ? Math.max(...values) : 10];
  if (!(low > 0)) low = values.length ? Math.min(...values) : 1;
  if (!(high > low)) high = low * 10;
  const decades = Math.log10(high / low) > 3;
  const yMin = logStop(low, false, decades);
  const yMax = Math.max(logStop(high, true, decades), yMin * 10);
  const ticks = logAxisTicks(yMin, yMax);
  return { ticks, label: logTickLabel, fraction: (v) => Math.log10(v / yMin) / Math.log10(yMax / yMin) };
}

function drawPanel(panel: Panel, x0: number, y0: number, width: number, height: number, maxX: number): string {
  const left = x0 + 62;
  const right = x0 + width - 16;
  const top = y0 + 28;
  const bottom = y0 + height - 46;
  const yAxis = panel.logY ? logYAxis(panel) : linearYAxis(panel);
  const xMin = panel.xMin;
  const log = panel.logX === true && xMin > 0;
  const xMax = log ? Math.max(maxX, xMin * 10) : Math.max(maxX, xMin + 1);
  const fx = (e: number) => (log ? Math.log10(e) : e);
  const sx = (e: number) => left + ((fx(e) - fx(xMin)) / (fx(xMax) - fx(xMin))) * (right - left);
  const sy = (v: number) => bottom - yAxis.fraction(v) * (bottom - top);
  const out: string[] = [];
  out.push(`<g class="panel">`);
  out.push(`<text x="${num((left + right) / 2)}" y="${num(y0 + 16)}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
  for (const t of yAxis.ticks) {
    const y = num(sy(t));
    out.push(`<line x1="${num(left)}" y1="${y}" x2="${num(right)}" y2="${y}" stroke="#e6e6e6" stroke-width="1"/>`);
    out.push(`<text x="${num(left - 6)}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${yAxis.label(t)}</text>`);
  }
  for (const e of panel.xTicks(log ? xMax : maxX)) {
    const x = num(sx(e));
    out.push(`<line x1="${x}" y1="${num(bottom)}" x2="${x}" y2="${num(bottom + 5)}" stroke="#333" stroke-width="1"/>`);
    out.push(`<text x="${x}" y="${num(bottom + 18)}" text-anchor="middle" font-size="11">${log ? logTickLabel(e) : e}</text>`);
  }
  out.push(`<rect x="${num(left)}" y="${num(top)}" width="${num(right - left)}" height="${num(bottom - top)}" fill="none" stroke="#333" stroke-width="1"/>`);
  out.push(`<text x="${num((left + right) / 2)}" y="${num(bottom + 38)}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`);
  const cy = num((top + bottom) / 2);
  out.push(`<text x="${num(x0 + 16)}" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 ${num(x0 + 16)} ${cy})">${escapeXml(panel.yLabel)}</text>`);
  panel.points.forEach((drawn, i) => {
    const { colour, dash, width: strokeWidth } = styleOf(i, panel.styles?.[i]);
    const points = drawn.filter(([e, v]) => (!log || e > 0) && (!panel.logY || v > 0));
    const coords = points.map(([e, v]) => `${num(sx(e))},${num(sy(v))}`).join(" ");
    out.push(`<polyline class="series-${i}" points="${coords}" fill="none" stroke="${colour}" stroke-width="${strokeWidth}"` +
      `${dash ? ` stroke-dasharray="${dash}"` : ""} stroke-linejoin="round" stroke-linecap="round"/>`);
    if (points.length <= 40)
      for (const [e, v] of points)
        out.push(`<circle cx="${num(sx(e))}" cy="${num(sy(v))}" r="${i === 0 ? 4 : 2.5}" fill="${i === 0 ? colour : "#fff"}" stroke="${colour}" stroke-width="1.5"/>`);
  });
  out.push(`</g>`);
  return out.join("\n");
}

const epochAxis = { xLabel: "epoch", xMin: 1, xTicks: epochTicks };

function series(history: History, pick: (r: EpochRecord) => number | undefined, scale = 1): [number, number][] {
  return history.epochs
    .map((r) => [r.epoch, pick(r)] as [number, number | undefined])
    .filter((p): p is [number, number] => p[1] !== undefined && Number.isFinite(p[1]))
    .map(([e, v]) => [e, v * scale]);
}

/**
 * One legend entry per series label, in rows from the left starting at height `y`, a new row
 * whenever the next entry would pass `maxWidth`. Returns the entries and the rows used.
 */
function legendEntries(labels: string[], y: number, styles?: (SeriesStyle | undefined)[], maxWidth = Infinity): { entries: string[]; rows: number } {
  let legendX = 24;
  let row = 0;
  const entries = labels.map((label, i) => {
    const entryWidth = 80 + 7.5 * label.length;
    if (legendX + entryWidth > maxWidth && legendX > 24) {
      legendX = 24;
      row++;
    }
    const x = legendX;
    const at = y + 20 * row;
    legendX += entryWidth;
    const { colour, dash, width } = styleOf(i, styles?.[i]);
    return `<g class="legend-entry"><line x1="${num(x)}" y1="${at}" x2="${num(x + 36)}" y2="${at}" stroke="${colour}" stroke-width="${width}"` +
      `${dash ? ` stroke-dasharray="${dash}"` : ""}/><text x="${num(x + 44)}" y="${at}" dominant-baseline="middle" font-size="13">${escapeXml(label)}</text></g>`;
  });
  return { entries, rows: row + 1 };
}

/** An SVG document with a loss panel and an accuracy panel, one line per series and a legend. */
export function trainingCurvesSvg(runs: CurveSeries[], options: PlotOptions = {}): string {
  const width = options.width ?? 960;
  const height = options.height ?? 440;
  const title = options.title ?? "Training curves";
  const lossKind = options.loss ?? "train";
  const everyHasTest = runs.length > 0 && runs.every((r) => r.history.epochs.some((e) => e.testAccuracy !== undefined));
  const accuracyKind = options.accuracy ?? (everyHasTest ? "test" : "train");
  const maxEpoch = Math.max(1, ...runs.flatMap((r) => r.history.epochs.map((e) => e.epoch)));
  const lossPanel: Panel = {
    title: lossKind === "train" ? "Training loss (mean over the epoch)" : "Test loss",
    yLabel: "loss",
    points: runs.map((r) => series(r.history, (e) => (lossKind === "train" ? e.trainLoss : e.testLoss))),
    percent: false,
    ...epochAxis,
  };
  const accuracyPanel: Panel = {
    title: accuracyKind === "test" ? "Test accuracy" : "Training accuracy",
    yLabel: "accuracy (%)",
    points: runs.map((r) => series(r.history, (e) => (accuracyKind === "test" ? e.testAccuracy : e.trainAccuracy), 100)),
    percent: true,
    ...epochAxis,
  };
  const legendY = 50;
  const panelTop = 70;
  const panelWidth = width / 2;
  const legend = legendEntries(runs.map((r) => r.label), legendY).entries;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${num(width / 2)}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    `<g class="legend">`,
    ...legend,
    `</g>`,
    drawPanel(lossPanel, 0, panelTop, panelWidth, height - panelTop, maxEpoch),
    drawPanel(accuracyPanel, panelWidth, panelTop, panelWidth, height - panelTop, maxEpoch),
    `</svg>`,
    "",
  ].join("\n");
}

/** One panel of `lineChartSvg`: a title and one list of points per series. */
export interface LinePanel {
  title: string;
  /** One list of [x, y] points per series, in the order of `LineChartOptions.labels`. */
  series: [number, number][][];
}

/** Title, series labels and axis names of `lineChartSvg`. */
export interface LineChartOptions {
  title: string;
  /** A line of smaller text under the title (criteria, data, scale-downs). */
  subtitle?: string;
  /** Series names for the legend (the same series in every panel). */
  labels: string[];
  /** Style overrides by label, e.g. a grey dashed reference line. */
  styles?: Record<string, SeriesStyle>;
  /** Logarithmic x axis with ticks at 1, 2, 5 x 10^k (every x must be > 0). */
  logX?: boolean;
  /** Logarithmic y axis (ticks at 1, 2, 5 x 10^k, or the powers of ten over more than three decades); y <= 0 is left out. */
  logY?: boolean;
  /** A fixed y range for every panel (default: fit each panel's data). */
  yRange?: [number, number];
  xLabel: string;
  yLabel: string;
  /** y values are percentages (the axis is kept within 0..100). */
  percent?: boolean;
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Smallest y range of a panel (default: fit the data). */
  minYSpan?: number;
  /** Size of each panel in pixels (default 360 x 300). */
  panelWidth?: number;
  panelHeight?: number;
}

/**
 * Several panels of line series over a shared x axis (e.g. accuracy per time step under
 * each input corruption, or recall against the number of stored patterns on a log axis),
 * one legend for all, in a grid. The x ticks are integers when every x is one, decimals
 * otherwise, and 1, 2, 5 x 10^k on a log axis.
 */
export function lineChartSvg(panels: LinePanel[], options: LineChartOptions): string {
  const columns = Math.max(1, Math.min(options.columns ?? panels.length, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const panelWidth = options.panelWidth ?? 360;
  const panelHeight = options.panelHeight ?? 300;
  const width = Math.max(columns * panelWidth, 480);
  const styles = options.labels.map((label) => options.styles?.[label]);
  const legendY = options.subtitle ? 62 : 50;
  const legend = legendEntries(options.labels, legendY, styles, width);
  const top = legendY + 20 * (legend.rows - 1) + 20;
  const height = top + rows * panelHeight;
  const xs = panels.flatMap((p) => p.series.flat().map(([x]) => x)).filter((x) => Number.isFinite(x) && (!options.logX || x > 0));
  const xMin = xs.length ? Math.min(...xs) : options.logX ? 1 : 0;
  const maxX = xs.length ? Math.max(...xs) : xMin + 1;
  const integers = xs.every(Number.isInteger);
  const xTicks = options.logX ? (max: number) => logAxisTicks(xMin, max)
    : (max: number) => niceTicks(xMin, max, 8).filter((t) => t >= xMin - 1e-9 && t <= max + 1e-9 && (!integers || Number.isInteger(t)));
  const drawn = panels.map((p, i) => drawPanel({
    title: p.title, yLabel: options.yLabel, percent: options.percent ?? false, xLabel: options.xLabel, xMin, xTicks, minYSpan: options.minYSpan,
    yRange: options.yRange, logX: options.logX, logY: options.logY, styles,
    points: p.series.map((points) => points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))),
  }, (i % columns) * panelWidth, top + Math.floor(i / columns) * panelHeight, panelWidth, panelHeight, maxX));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${num(width / 2)}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...(options.subtitle ? [`<text x="${num(width / 2)}" y="42" text-anchor="middle" font-size="12" fill="#444">${escapeXml(options.subtitle)}</text>`] : []),
    `<g class="legend">`,
    ...legend.entries,
    `</g>`,
    ...drawn,
    `</svg>`,
    "",
  ].join("\n");
}

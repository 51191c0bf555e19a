// Experiment 1: capacity of Universal Hopfield Networks (Millidge et al. 2022) on image
// datasets. Every similarity x separation is stored with N images and queried with a
// corrupted copy of each: Gaussian noise, the bottom half zeroed (as the paper), and the
// same half given as unknown through a mask. Two criteria judge each recall: the paper's
// (sum of squared errors <= 60 D/784) and a strict one (src/memory/capacity.ts). Beside every
// curve: the criterion's verdict on recalling the mean of the stored images, the floor a
// blurred recall reaches. Also accuracy against the noise level and the hidden fraction.
import { type CapacityResult, type Criterion, PAPER_CRITERION, runCapacity, STRICT_CRITERION, summarize, summarizeFloors, type Summary, uhnMethod, drawPatterns } from "../../src/memory/capacity.js";
import { corruptQueries, queryCorruptionLabel, type QueryCorruption } from "../../src/memory/corruption.js";
import { resolveSeparation, separationLabel, type Separation } from "../../src/memory/separation.js";
import { PAPER_SIMILARITIES, type SimilarityName } from "../../src/memory/similarity.js";
import { UniversalHopfield } from "../../src/memory/universal-hopfield.js";
import { gridSvg } from "../../src/node/image-grid.js";
import { lineChartSvg, type LineChartOptions, type LinePanel } from "../../src/train/plot.js";
import { type ExperimentContext, hostLine, type ImageSet, markdownTable, percent, writeOutput } from "./context.js";

export const SEPARATIONS: Separation[] = [
  resolveSeparation("identity"),
  resolveSeparation({ kind: "polynomial", degree: 2 }),
  resolveSeparation({ kind: "polynomial", degree: 10 }),
  resolveSeparation({ kind: "softmax", beta: 1000 }),
  resolveSeparation("max"),
];
export const CRITERIA: Criterion[] = [PAPER_CRITERION, STRICT_CRITERION];
const FLOOR_LABEL = "mean of stored (floor)";

interface Plan {
  sizes: number[];
  noiseN: number;
  sigmas: number[];
  maskN: number;
  fractions: number[];
  gridN: number;
  gridRows: number;
}

const FULL: Plan = {
  sizes: [2, 5, 10, 20, 50, 100, 200, 500, 1000],
  noiseN: 100,
  sigmas: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.25, 1.5],
  maskN: 50,
  fractions: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  gridN: 100,
  gridRows: 6,
};

const SMOKE: Plan = { sizes: [2, 5, 10], noiseN: 10, sigmas: [0.1, 1], maskN: 10, fractions: [0.25, 0.75], gridN: 10, gridRows: 2 };

const CAPACITY_CORRUPTIONS: QueryCorruption[] = [
  { kind: "noise", sigma: 0.5 },
  { kind: "zeroed", fraction: 0.5 },
  { kind: "masked", fraction: 0.5 },
];

/** The part's markdown report (also printed as it goes). */
export function runUhnExperiment(context: ExperimentContext): string {
  const plan = context.smoke ? SMOKE : FULL;
  const started = Date.now();
  const sections: string[] = [
    `## Universal Hopfield Networks: capacity`,
    "",
    `Seeds ${context.seeds.join(", ")}; each seed draws its N stored images at random from the pool ` +
    `(smaller N are subsets of larger ones) and queries every one of them once. ` +
    `Cells are the percentage of the N stored images recalled, the mean over seeds. ` +
    `Criteria: **paper**: ${PAPER_CRITERION.description}; **strict**: ${STRICT_CRITERION.description}. ` +
    `The floor row is the percentage of stored images that recalling the mean of the stored images would pass.`,
    "",
  ];
  const say = (text: string) => {
    context.log(text);
    sections.push(text, "");
  };
  for (const dataset of context.datasets) {
    say(`### ${dataset.title}\n\nPool: ${dataset.note}. Images are ${dataset.shape.height} x ${dataset.shape.width}, values in [0, 1].`);
    const methods = PAPER_SIMILARITIES.map((s) => uhnMethod(s, SEPARATIONS, { backend: context.backend }));
    const progress = (what: string) => (message: string) => context.log(`  ${dataset.key} ${what}: ${message}`);
    const capacity = runCapacity({
      images: dataset.images, shape: dataset.shape, sizes: plan.sizes, seeds: context.seeds, corruptions: CAPACITY_CORRUPTIONS,
      methods, criteria: CRITERIA, backend: context.backend, onProgress: progress("capacity"),
    });
    const noise = runCapacity({
      images: dataset.images, shape: dataset.shape, sizes: [plan.noiseN], seeds: context.seeds,
      corruptions: plan.sigmas.map((sigma) => ({ kind: "noise", sigma })), methods, criteria: CRITERIA, backend: context.backend,
      onProgress: progress("noise levels"),
    });
    const fractions = runCapacity({
      images: dataset.images, shape: dataset.shape, sizes: [plan.maskN], seeds: context.seeds,
      corruptions: plan.fractions.flatMap((fraction) => [{ kind: "zeroed", fraction }, { kind: "masked", fraction }] as QueryCorruption[]),
      methods, criteria: CRITERIA, backend: context.backend, onProgress: progress("hidden fractions"),
    });
    say(summaryTables(dataset, capacity, plan));
    for (const criterion of CRITERIA) {
      const capacityFile = writeOutput(context, `capacity-${dataset.key}-${criterion.name}.svg`, capacitySvg(dataset, capacity, criterion, plan));
      say(`#### ${dataset.title}, ${criterion.name} criterion: capacity (${CAPACITY_CORRUPTIONS.map(queryCorruptionLabel).join("; ")})\n\nPlot: \`${capacityFile}\``);
      for (const corruption of CAPACITY_CORRUPTIONS)
        say(`${dataset.title}, ${queryCorruptionLabel(corruption)}, ${criterion.name} criterion, % recalled by N:\n\n` +
          curveTable(capacity, criterion, queryCorruptionLabel(corruption), plan.sizes.map((n) => ({ label: `N=${n}`, n, corruption: queryCorruptionLabel(corruption) }))));
      const noiseFile = writeOutput(context, `noise-${dataset.key}-${criterion.name}.svg`, noiseSvg(dataset, noise, criterion, plan));
      say(`#### ${dataset.title}, ${criterion.name} criterion: noise level (N = ${plan.noiseN})\n\nPlot: \`${noiseFile}\`\n\n` +
        curveTable(noise, criterion, null, plan.sigmas.map((sigma) => ({ label: `sigma ${sigma}`, n: plan.noiseN, corruption: queryCorruptionLabel({ kind: "noise", sigma }) }))));
      const fractionFile = writeOutput(context, `hidden-fraction-${dataset.key}-${criterion.name}.svg`, fractionSvg(dataset, fractions, criterion, plan));
      say(`#### ${dataset.title}, ${criterion.name} criterion: hidden fraction (N = ${plan.maskN})\n\nPlot: \`${fractionFile}\``);
      for (const kind of ["zeroed", "masked"] as const)
        say(`${dataset.title}, bottom fraction ${kind}, ${criterion.name} criterion, % recalled:\n\n` +
          curveTable(fractions, criterion, null, plan.fractions.map((fraction) => ({ label: `${fraction}`, n: plan.maskN, corruption: queryCorruptionLabel({ kind, fraction }) }))));
    }
    for (const corruption of CAPACITY_CORRUPTIONS) {
      const file = writeOutput(context, `grid-${dataset.key}-${corruption.kind}.svg`, recallGrid(context, dataset, corruption, plan));
      say(`Image grid, ${dataset.title}, ${queryCorruptionLabel(corruption)} (N = ${plan.gridN}): \`${file}\``);
    }
  }
  say(`UHN experiment time: ${((Date.now() - started) / 1000).toFixed(0)} s on the wasm-simd backend; ${hostLine()}.`);
  return sections.join("\n");
}

/** Share of stored images that must be recalled for an N to count within capacity. */
const CAPACITY_LEVEL = 0.9;

/**
 * The two headline tables: recall at the largest N with max separation (both criteria,
 * every corruption, with the floor), and the capacity of every similarity x separation.
 */
function summaryTables(dataset: ImageSet, result: CapacityResult, plan: Plan): string {
  const summaries = summarize(result.records);
  const floors = summarizeFloors(result.floors);
  const largest = plan.sizes[plan.sizes.length - 1];
  const mean = (method: string, variant: string, corruption: QueryCorruption, n: number, criterion: Criterion) =>
    summaries.find((s) => s.method === method && s.variant === variant && s.corruption === queryCorruptionLabel(corruption) && s.n === n && s.criterion === criterion.name)?.mean ?? NaN;
  const pair = (f: (criterion: Criterion) => number) => CRITERIA.map((c) => percent(f(c))).join(" / ");
  const atLargest = markdownTable(
    ["similarity (max separation)", ...CAPACITY_CORRUPTIONS.map(queryCorruptionLabel)],
    [
      ...PAPER_SIMILARITIES.map((similarity) => [similarity, ...CAPACITY_CORRUPTIONS.map((c) => pair((criterion) => mean(similarity, "max", c, largest, criterion)))]),
      [FLOOR_LABEL, ...CAPACITY_CORRUPTIONS.map(() => pair((criterion) => floors.find((f) => f.n === largest && f.criterion === criterion.name)?.mean ?? NaN))],
    ]);
  const capacityOf = (similarity: string, separation: Separation, corruption: QueryCorruption): string => {
    let reached = "<" + plan.sizes[0];
    for (const n of plan.sizes) {
      if (!(mean(similarity, separationLabel(separation), corruption, n, STRICT_CRITERION) >= CAPACITY_LEVEL)) break;
      reached = String(n);
    }
    return reached;
  };
  const capacityTable = markdownTable(
    ["similarity", ...SEPARATIONS.map(separationLabel)],
    PAPER_SIMILARITIES.map((similarity) => [similarity, ...SEPARATIONS.map((separation) =>
      CAPACITY_CORRUPTIONS.map((c) => capacityOf(similarity, separation, c)).join(" / "))]));
  return [
    `#### ${dataset.title}: summary`,
    "",
    `% of N = ${largest} stored images recalled with max separation, paper / strict criterion (floor: the mean of the stored images as the recall):`,
    "",
    atLargest,
    "",
    `Capacity: the largest N of ${plan.sizes.join(", ")} up to which at least ${100 * CAPACITY_LEVEL}% of the stored images are recalled ` +
    `(strict criterion, mean over seeds), for ${CAPACITY_CORRUPTIONS.map(queryCorruptionLabel).join(" / ")}:`,
    "",
    capacityTable,
  ].join("\n");
}

/** Rows: similarity x separation, then the floor; columns: the given points. */
function curveTable(result: CapacityResult, criterion: Criterion, corruption: string | null,
  columns: { label: string; n: number; corruption: string }[]): string {
  const summaries = summarize(result.records).filter((s) => s.criterion === criterion.name);
  const find = (method: string, variant: string, n: number, c: string) =>
    summaries.find((s) => s.method === method && s.variant === variant && s.n === n && s.corruption === c);
  const floors = summarizeFloors(result.floors).filter((f) => f.criterion === criterion.name);
  const rows: string[][] = [];
  for (const similarity of PAPER_SIMILARITIES)
    for (const separation of SEPARATIONS) {
      const label = separationLabel(separation);
      rows.push([`${similarity}, ${label}`, ...columns.map((c) => cell(find(similarity, label, c.n, corruption ?? c.corruption)))]);
    }
  rows.push([FLOOR_LABEL, ...columns.map((c) => percent(floors.find((f) => f.n === c.n)?.mean ?? NaN))]);
  return markdownTable(["similarity, separation", ...columns.map((c) => c.label)], rows);
}

function cell(s: Summary | undefined): string {
  return s ? percent(s.mean) : "-";
}

/** Series in the order of CHART_LABELS: one per similarity, then the floor. */
function seriesFor(result: CapacityResult, criterion: Criterion, separation: Separation, points: { x: number; n: number; corruption: string }[]): [number, number][][] {
  const summaries = summarize(result.records).filter((s) => s.criterion === criterion.name && s.variant === separationLabel(separation));
  const floors = summarizeFloors(result.floors).filter((f) => f.criterion === criterion.name);
  const series: [number, number][][] = PAPER_SIMILARITIES.map((similarity: SimilarityName) => points.flatMap((p) => {
    const s = summaries.find((x) => x.method === similarity && x.n === p.n && x.corruption === p.corruption);
    return s ? [[p.x, 100 * s.mean] as [number, number]] : [];
  }));
  series.push(points.flatMap((p) => {
    const f = floors.find((x) => x.n === p.n);
    return f ? [[p.x, 100 * f.mean] as [number, number]] : [];
  }));
  return series;
}

const CHART_LABELS = [...PAPER_SIMILARITIES, FLOOR_LABEL];

/** What every chart of this experiment shares: labels, the floor's grey dashes, 0-100%. */
function chartOptions(title: string, subtitle: string, xLabel: string, logX = false): LineChartOptions {
  return {
    title, subtitle, xLabel, yLabel: "% recalled", labels: CHART_LABELS, logX, percent: true, yRange: [0, 100],
    styles: { [FLOOR_LABEL]: { colour: "#888", dash: "5 4", width: 1.5 } }, columns: SEPARATIONS.length, panelWidth: 300, panelHeight: 240,
  };
}

function subtitle(dataset: ImageSet, criterion: Criterion, seeds: string): string {
  return `${criterion.name} criterion: ${criterion.description}; pool: ${dataset.note}; mean over ${seeds}`;
}

function capacitySvg(dataset: ImageSet, result: CapacityResult, criterion: Criterion, plan: Plan): string {
  const panels: LinePanel[] = CAPACITY_CORRUPTIONS.flatMap((corruption) => SEPARATIONS.map((separation) => ({
    title: `${queryCorruptionLabel(corruption)}, ${separationLabel(separation)}`,
    series: seriesFor(result, criterion, separation, plan.sizes.map((n) => ({ x: n, n, corruption: queryCorruptionLabel(corruption) }))),
  })));
  return lineChartSvg(panels, chartOptions(`UHN capacity on ${dataset.title}: % of N stored images recalled`,
    subtitle(dataset, criterion, seedsText(result)), "N stored images", true));
}

function noiseSvg(dataset: ImageSet, result: CapacityResult, criterion: Criterion, plan: Plan): string {
  const panels: LinePanel[] = SEPARATIONS.map((separation) => ({
    title: separationLabel(separation),
    series: seriesFor(result, criterion, separation, plan.sigmas.map((sigma) => ({ x: sigma, n: plan.noiseN, corruption: queryCorruptionLabel({ kind: "noise", sigma }) }))),
  }));
  return lineChartSvg(panels, chartOptions(`UHN recall on ${dataset.title} against Gaussian noise (N = ${plan.noiseN}, clipped to [0, 1])`,
    subtitle(dataset, criterion, seedsText(result)), "noise sigma"));
}

function fractionSvg(dataset: ImageSet, result: CapacityResult, criterion: Criterion, plan: Plan): string {
  const panels: LinePanel[] = (["zeroed", "masked"] as const).flatMap((kind) => SEPARATIONS.map((separation) => ({
    title: `${kind}, ${separationLabel(separation)}`,
    series: seriesFor(result, criterion, separation, plan.fractions.map((fraction) => ({ x: fraction, n: plan.maskN, corruption: queryCorruptionLabel({ kind, fraction }) }))),
  })));
  return lineChartSvg(panels, chartOptions(`UHN recall on ${dataset.title} against the hidden bottom fraction (N = ${plan.maskN})`,
    subtitle(dataset, criterion, seedsText(result)), "fraction of rows hidden"));
}

function seedsText(result: CapacityResult): string {
  const seeds = new Set(result.records.map((r) => r.seed));
  return `${seeds.size} seed${seeds.size === 1 ? "" : "s"}`;
}

/** Stored / query / recalled by each similarity with max and with softmax separation, for a few stored images. */
function recallGrid(context: ExperimentContext, dataset: ImageSet, corruption: QueryCorruption, plan: Plan): string {
  const d = dataset.shape.channels * dataset.shape.height * dataset.shape.width;
  const patterns = drawPatterns(dataset.images, dataset.count, d, plan.gridN, context.seeds[0]);
  const { queries, mask } = corruptQueries(patterns, plan.gridN, dataset.shape, corruption, 12345);
  const shown = Math.min(plan.gridRows, plan.gridN);
  const rows: (ArrayLike<number> | null)[][] = Array.from({ length: shown }, (_, r) => [
    patterns.subarray(r * d, (r + 1) * d), queries.subarray(r * d, (r + 1) * d)]);
  const labels = ["stored", "query"];
  const gridSeparations = [resolveSeparation("max"), resolveSeparation({ kind: "softmax", beta: 1000 })];
  for (const separation of gridSeparations)
    for (const similarity of PAPER_SIMILARITIES) {
      const memory = new UniversalHopfield({ similarity, separation, backend: context.backend });
      try {
        memory.store(Array.from({ length: plan.gridN }, (_, i) => patterns.subarray(i * d, (i + 1) * d)));
        const recalled = memory.recall(Array.from({ length: shown }, (_, i) => queries.subarray(i * d, (i + 1) * d)), mask ?? undefined);
        const values = recalled.dataSync();
        recalled.dispose();
        rows.forEach((row, r) => row.push(values.subarray(r * d, (r + 1) * d)));
        labels.push(`${similarity === "normalizedDot" ? "normDot" : similarity} ${separation.kind}`);
      } finally {
        memory.dispose();
      }
    }
  return gridSvg(rows, {
    imageHeight: dataset.shape.height, imageWidth: dataset.shape.width, scale: 3, gap: 4, columnLabels: labels,
    title: `UHN recalls on ${dataset.title}: ${queryCorruptionLabel(corruption)}, N = ${plan.gridN} stored`,
    subtitle: "columns: stored image, query, then the recall of each similarity with max and with softmax(beta=1000) separation",
  });
}

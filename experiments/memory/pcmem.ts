// Experiment 2: the generative PC memory of Salvatori et al. 2021 against a modern Hopfield
// network and a backprop autoencoder of the same widths. Each method stores N images and is
// queried with a corrupted or partial copy of (up to `queries` of) them:
//   - Gaussian noise of variance 0.2, not clipped: recalled if the MSE is below 0.005;
//   - the top half of the image known (a mask): recalled if the MSE is below 0.001;
//   - the top quarter known: likewise.
// One training per method, N and hidden size answers every corruption (RecallMethod.prepare).
// Writes one plot per dataset (% recalled against N) and image grids (stored / query / each
// method's recall); the report gives the tables, the training each network got, and the time.
import { memoryMethod, mseCriterion, runCapacity, summarize, type CapacityResult, type Criterion, type RecallMethod, type RecallVariant } from "../../src/memory/capacity.js";
import { queryCorruptionLabel, type QueryCorruption } from "../../src/memory/corruption.js";
import { AutoencoderMemory, type AutoencoderMemoryOptions } from "../../src/memory/autoencoder-memory.js";
import type { MemoryTrainingResult } from "../../src/memory/memory-training.js";
import { PCMemory, type PCMemoryOptions } from "../../src/memory/pc-memory.js";
import { modernHopfield } from "../../src/memory/universal-hopfield.js";
import { gridSvg } from "../../src/node/image-grid.js";
import { lineChartSvg, type LinePanel } from "../../src/train/plot.js";
import { type ExperimentContext, hostLine, type ImageSet, markdownTable, percent, writeOutput } from "./context.js";

interface Plan {
  sizes: number[];
  hidden: number[];
  /** Stored images queried per N. */
  queries: number;
  /** Most training epochs of each network. */
  epochs: number;
  /** Steps of the PC memory's partial recall. */
  partialSteps: number;
  /** The N whose recalls the image grids show, and how many of them. */
  gridN: number;
  gridRows: number;
}

const FULL: Plan = { sizes: [10, 50, 100, 250], hidden: [256, 512], queries: 50, epochs: 200, partialSteps: 1000, gridN: 50, gridRows: 6 };
const SMOKE: Plan = { sizes: [4, 8], hidden: [32], queries: 4, epochs: 60, partialSteps: 100, gridN: 8, gridRows: 2 };

/** The paper's corruptions: noise of variance 0.2, and the top half / quarter of the image known. */
export const PC_MEMORY_CORRUPTIONS: { corruption: QueryCorruption; name: string; criterion: Criterion }[] = [
  { corruption: { kind: "noise", sigma: Math.sqrt(0.2), clip: false }, name: "noise", criterion: mseCriterion(0.005) },
  { corruption: { kind: "masked", fraction: 0.5 }, name: "half", criterion: mseCriterion(0.001) },
  { corruption: { kind: "masked", fraction: 0.75 }, name: "quarter", criterion: mseCriterion(0.001) },
];
const TITLES: Record<string, string> = {
  noise: "Gaussian noise, variance 0.2 (MSE < 0.005)",
  half: "top half known (MSE < 0.001)",
  quarter: "top quarter known (MSE < 0.001)",
};
const MHN_LABEL = "MHN (dot, softmax beta 1)";
const pcLabel = (n: number) => `PC memory, hidden ${n}`;
const aeLabel = (n: number) => `autoencoder, hidden ${n}`;

/** A training run, as reported beside the tables. */
interface TrainingRecord {
  method: string;
  n: number;
  result: MemoryTrainingResult;
}

/** What the image grids need: the N = gridN stored images, the queries and every method's recalls. */
interface GridCapture {
  patterns: Float32Array | null;
  /** Per corruption (in order): queries [rows, D]. */
  queries: Float32Array[];
  /** Per method label, per corruption: recalls. */
  recalls: Map<string, Float32Array[]>;
}

/** Median recall MSE, and for the PC memory the energy it ended its recall at, per method, N and corruption. */
interface RecallDiagnosis {
  method: string;
  n: number;
  /** Index into PC_MEMORY_CORRUPTIONS (runCapacity recalls them in order). */
  corruption: number;
  medianMse: number;
  /** F / (B D) at the end of the PC memory's recall. */
  energyPerEntry: number;
}

/** A trained memory as a capacity method that logs its training and what its recalls ended at. */
function trainedMethod(label: string, create: () => PCMemory | AutoencoderMemory, log: TrainingRecord[], diagnoses: RecallDiagnosis[]): RecallMethod {
  return {
    label,
    prepare(patterns, n, d) {
      const memory = create();
      memory.append(rowsOf(patterns, n, d));
      log.push({ method: label, n, result: memory.train() });
      let call = 0;
      return {
        recall(queries, rows, mask) {
          const recalled = memory.recall(rowsOf(queries, rows, d), mask ?? undefined);
          try {
            const values = recalled.dataSync();
            const errors = Array.from({ length: rows }, (_, b) => {
              let sum = 0;
              for (let k = 0; k < d; k++) sum += (values[b * d + k] - patterns[b * d + k]) ** 2;
              return sum / d;
            }).sort((a, b) => a - b);
            const energy = memory instanceof PCMemory ? memory.lastRecall!.energy / d : NaN;
            diagnoses.push({ method: label, n, corruption: call++, medianMse: errors[Math.floor(rows / 2)], energyPerEntry: energy });
            return [{ label, recalled: values }];
          } finally {
            recalled.dispose();
          }
        },
        dispose: () => memory.dispose(),
      };
    },
  };
}

function rowsOf(data: Float32Array, rows: number, d: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => data.subarray(r * d, (r + 1) * d));
}

/** Wraps a method so that, for N = gridN, the stored images, queries and recalls are kept. */
function capturing(method: RecallMethod, gridN: number, capture: GridCapture): RecallMethod {
  return {
    label: method.label,
    prepare(patterns, n, d) {
      const prepared = method.prepare(patterns, n, d);
      if (n !== gridN) return prepared;
      capture.patterns ??= patterns.slice();
      let call = 0;
      return {
        recall(queries, rows, mask): RecallVariant[] {
          const variants = prepared.recall(queries, rows, mask);
          capture.queries[call] ??= queries.slice();
          const list = capture.recalls.get(method.label) ?? [];
          list[call++] = Float32Array.from(variants[0].recalled);
          capture.recalls.set(method.label, list);
          return variants;
        },
        dispose: () => prepared.dispose(),
      };
    },
  };
}

/** The part's markdown report (also printed as it goes). */
export function runPCMemoryExperiment(context: ExperimentContext): string {
  const plan = context.smoke ? SMOKE : FULL;
  const seeds = context.seeds.slice(0, 1);
  const started = Date.now();
  const sections: string[] = [
    "## Generative PC memory against a modern Hopfield network and an autoencoder",
    "",
    `Each method stores N images drawn at random (seed ${seeds.join(", ")}) and is queried with a corrupted or partial copy of ` +
    `${plan.queries < Math.max(...plan.sizes) ? `the first ${plan.queries} of them (all of them when N is smaller)` : "every one of them"}. ` +
    "Cells are the percentage recalled: MSE below 0.005 from Gaussian noise of variance 0.2 (not clipped), below 0.001 from " +
    "the top half or the top quarter of the image (the rest unknown, given as a mask to every method). " +
    `PC memory: memory -> hidden -> image, tanh, iPC (T = 10, gamma 0.1, Adam 3e-4, batches of 50) until its energy per entry ` +
    `is at most 2e-6 or ${plan.epochs} epochs; recall from noise iterates the paper's F 20 times (clamp, relax 10 steps, read the ` +
    `predicted image), from a part relaxes the unknown pixels and hidden units ${plan.partialSteps} steps (gamma 0.1, momentum 0.9). ` +
    `Autoencoder: the same widths (image -> hidden -> code -> hidden -> image), backprop with Adam 1e-3 to the same tolerance or ` +
    `${plan.epochs} epochs, recall by iterating it 20 times (holding the known pixels). MHN: z = M^T softmax(M q) over the known entries.`,
    "",
  ];
  const say = (text: string) => {
    context.log(text);
    sections.push(text, "");
  };
  for (const dataset of context.datasets) {
    say(`### ${dataset.title}\n\nPool: ${dataset.note}.`);
    const log: TrainingRecord[] = [];
    const diagnoses: RecallDiagnosis[] = [];
    const capture: GridCapture = { patterns: null, queries: [], recalls: new Map() };
    const methods: RecallMethod[] = [
      ...plan.hidden.map((n) => trainedMethod(pcLabel(n), () => new PCMemory(pcOptions(context, n, plan)), log, diagnoses)),
      ...plan.hidden.map((n) => trainedMethod(aeLabel(n), () => new AutoencoderMemory(aeOptions(context, n, plan)), log, diagnoses)),
      memoryMethod(MHN_LABEL, () => modernHopfield({ backend: context.backend })),
    ].map((m) => capturing(m, plan.gridN, capture));
    const result = runCapacity({
      images: dataset.images, shape: dataset.shape, sizes: plan.sizes, seeds, corruptions: PC_MEMORY_CORRUPTIONS.map((c) => c.corruption),
      methods, criteria: [...new Set(PC_MEMORY_CORRUPTIONS.map((c) => c.criterion))], backend: context.backend, queries: plan.queries,
      onProgress: (message) => context.log(`  ${dataset.key} PC memory / MHN / autoencoder: ${message}`),
    });
    say(recallTables(dataset, result, methods.map((m) => m.label), plan));
    say(trainingTable(dataset, log, plan));
    say(diagnosisTable(dataset, diagnoses, plan));
    const plot = writeOutput(context, `pc-memory-${dataset.key}.svg`, recallSvg(dataset, result, methods.map((m) => m.label), plan));
    say(`Plot: \`${plot}\``);
    PC_MEMORY_CORRUPTIONS.forEach((c, i) => {
      const file = writeOutput(context, `pc-memory-grid-${dataset.key}-${c.name}.svg`, gridFor(dataset, capture, i, methods.map((m) => m.label), plan));
      say(`Image grid, ${dataset.title}, ${TITLES[c.name]} (N = ${plan.gridN}): \`${file}\``);
    });
  }
  say(`PC memory experiment time: ${((Date.now() - started) / 1000).toFixed(0)} s on the wasm-simd backend; ${hostLine()}.`);
  return sections.join("\n");
}

function pcOptions(context: ExperimentContext, n: number, plan: Plan): PCMemoryOptions {
  return { hiddenSizes: [n], backend: context.backend, seed: 1, training: { epochs: plan.epochs }, partial: { steps: plan.partialSteps } };
}

function aeOptions(context: ExperimentContext, n: number, plan: Plan): AutoencoderMemoryOptions {
  return { hiddenSizes: [n], backend: context.backend, seed: 1, training: { epochs: plan.epochs } };
}

/** One table per corruption: methods x N. */
function recallTables(dataset: ImageSet, result: CapacityResult, labels: string[], plan: Plan): string {
  const summaries = summarize(result.records);
  return PC_MEMORY_CORRUPTIONS.map((c) => {
    const corruption = queryCorruptionLabel(c.corruption);
    const rows = labels.map((label) => [label, ...plan.sizes.map((n) => {
      const s = summaries.find((x) => x.method === label && x.n === n && x.corruption === corruption && x.criterion === c.criterion.name);
      return s ? percent(s.mean) : "-";
    })]);
    return `${dataset.title}, ${TITLES[c.name]}: % of the queried stored images recalled\n\n` +
      markdownTable([`${dataset.title}: ${c.name}`, ...plan.sizes.map((n) => `N=${n}`)], rows);
  }).join("\n\n");
}

/** Epochs, final loss per entry and time of every training. */
function trainingTable(dataset: ImageSet, log: TrainingRecord[], plan: Plan): string {
  const labels = [...new Set(log.map((r) => r.method))];
  const rows = labels.map((label) => [label, ...plan.sizes.map((n) => {
    const r = log.find((x) => x.method === label && x.n === n)?.result;
    return r ? `${r.epochs}${r.converged ? "" : "*"} / ${r.lossPerEntry.toExponential(1)} / ${r.seconds.toFixed(1)} s` : "-";
  })]);
  return `${dataset.title}, training: epochs / loss per entry at the last epoch / seconds (* = stopped at ${plan.epochs} epochs before ` +
    `reaching 2e-6; times measured on a shared machine, see the host line below)\n\n` +
    markdownTable(["network", ...plan.sizes.map((n) => `N=${n}`)], rows);
}

/** Median recall MSE of the trained memories, with the energy per entry the PC memory ended at. */
function diagnosisTable(dataset: ImageSet, diagnoses: RecallDiagnosis[], plan: Plan): string {
  const labels = [...new Set(diagnoses.map((r) => r.method))];
  const rows = labels.flatMap((label) => PC_MEMORY_CORRUPTIONS.map((c, i) => [`${label}: ${c.name}`, ...plan.sizes.map((n) => {
    const r = diagnoses.find((x) => x.method === label && x.n === n && x.corruption === i);
    if (!r) return "-";
    return Number.isNaN(r.energyPerEntry) ? r.medianMse.toExponential(1) : `${r.medianMse.toExponential(1)} / ${r.energyPerEntry.toExponential(1)}`;
  })]));
  return `${dataset.title}, median MSE of the recalls (PC memory: / the energy per entry F / (B D) its recall ended at; near 0 with a large ` +
    "MSE means the network generates an image that fits the query but is not the stored one)\n\n" +
    markdownTable(["network: queries", ...plan.sizes.map((n) => `N=${n}`)], rows);
}

function recallSvg(dataset: ImageSet, result: CapacityResult, labels: string[], plan: Plan): string {
  const summaries = summarize(result.records);
  const panels: LinePanel[] = PC_MEMORY_CORRUPTIONS.map((c) => ({
    title: TITLES[c.name],
    series: labels.map((label) => plan.sizes.flatMap((n) => {
      const s = summaries.find((x) => x.method === label && x.n === n && x.corruption === queryCorruptionLabel(c.corruption) && x.criterion === c.criterion.name);
      return s ? [[n, 100 * s.mean] as [number, number]] : [];
    })),
  }));
  return lineChartSvg(panels, {
    title: `Recall on ${dataset.title}: % of the queried stored images`,
    subtitle: `PC memory vs autoencoder (same widths) vs modern Hopfield network; pool: ${dataset.note}; 1 seed, up to ${plan.queries} queries per N`,
    labels, logX: true, percent: true, yRange: [0, 100], xLabel: "N stored images", yLabel: "% recalled", panelWidth: 320, panelHeight: 260,
  });
}

function gridFor(dataset: ImageSet, capture: GridCapture, index: number, labels: string[], plan: Plan): string {
  const d = dataset.shape.channels * dataset.shape.height * dataset.shape.width;
  const queries = capture.queries[index];
  const rows: (ArrayLike<number> | null)[][] = [];
  for (let r = 0; r < Math.min(plan.gridRows, queries ? queries.length / d : 0); r++) {
    const row: (ArrayLike<number> | null)[] = [capture.patterns!.subarray(r * d, (r + 1) * d), queries.subarray(r * d, (r + 1) * d)];
    for (const label of labels) row.push(capture.recalls.get(label)?.[index]?.subarray(r * d, (r + 1) * d) ?? null);
    rows.push(row);
  }
  const short = labels.map((l) => l.replace("PC memory, hidden ", "PC ").replace("autoencoder, hidden ", "AE ").replace(/ \(.*\)$/, ""));
  return gridSvg(rows, {
    imageHeight: dataset.shape.height, imageWidth: dataset.shape.width * dataset.shape.channels, scale: 3, gap: 4,
    columnLabels: ["stored", "query", ...short],
    title: `Recalls on ${dataset.title}: ${TITLES[PC_MEMORY_CORRUPTIONS[index].name]}, N = ${plan.gridN} stored`,
    subtitle: "columns: the stored image, the query (unknown pixels black), then each method's recall",
  });
}

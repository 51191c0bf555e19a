// `pcgraph memory store|recall|capacity`: associative memories from the command line —
// Universal Hopfield Networks (--method uhn, the default), the generative PC memory
// (--method pc) and, for capacity curves, the backprop autoencoder (--method ae).
//   store     draws images from a dataset and writes them as a memory file (uhn), or trains a
//             PC memory on them and writes its PC-graph checkpoint (pc)
//   recall    corrupts some stored images, recalls them, prints the errors and writes a grid
//             (stored / query / recalled) as SVG or PNG; the file says which memory it is
//   capacity  capacity curves (% recalled against N) per method (UHN: per similarity and
//             separation), as a table and an SVG
import { extname } from "node:path";
import { getBackend, setBackend } from "../backend/load.js";
import {
  memoryMethod, mseCriterion, PAPER_CRITERION, runCapacity, STRICT_CRITERION, summarize, summarizeFloors, uhnMethod, drawPatterns, type Criterion, type RecallMethod,
} from "../memory/capacity.js";
import { checkQueryCorruption, corruptQueries, queryCorruptionLabel, type QueryCorruption, type ImageShape } from "../memory/corruption.js";
import { resolveSeparation, separationLabel, type Separation } from "../memory/separation.js";
import { checkSimilarity, SIMILARITY_NAMES, type SimilarityName } from "../memory/similarity.js";
import { UniversalHopfield } from "../memory/universal-hopfield.js";
import { loadFashionMnist } from "../node/fashion-mnist.js";
import { writeFileAtomic } from "../node/files.js";
import { gridPng, gridSvg } from "../node/image-grid.js";
import { loadMemoryFile, saveMemoryFile } from "../node/memory-file.js";
import { AutoencoderMemory } from "../memory/autoencoder-memory.js";
import { PCMemory } from "../memory/pc-memory.js";
import { isCheckpointFile, recallPCMemory, storePCMemory, type ImagePool } from "./memory-pc.js";
import { loadBundledMnist } from "../train/data/mnist.js";
import { lineChartSvg } from "../train/plot.js";
import { UsageError, type CommandSpec } from "./args.js";
import { loadData } from "./data.js";
import { backendFlags, chooseBackend } from "./backend-flags.js";

type Flags = Record<string, string | number | boolean>;
type Out = (line: string) => void;

const SEPARATION_HELP = "identity | max | softmax[:BETA] | polynomial[:DEGREE]";
const CORRUPTION_HELP = "noise:SIGMA | zeroed:FRACTION | masked:FRACTION (bottom rows hidden)";

export const memorySpec: CommandSpec = {
  name: "memory",
  summary: "associative memories (Universal Hopfield Networks, generative PC memory): store images, recall them, capacity curves",
  usage: "pcgraph memory store --data mnist --count 100 [--method pc] --out FILE | memory recall FILE [options] | memory capacity [options]",
  positionals: [
    { name: "ACTION", required: true, help: "store, recall or capacity" },
    { name: "MEMORY", required: false, help: "The memory file (recall)" },
  ],
  flags: [
    { name: "data", type: "string", values: ["mnist", "fashion-mnist"], orPath: true, meta: "mnist|fashion-mnist|DIR|FILE.csv", help: "Images to store (store, capacity); values in [0, 1]", defaultText: "mnist" },
    { name: "count", type: "integer", min: 1, meta: "N", help: "store: images to store; recall: stored images to query", defaultText: "store 100, recall 8" },
    { name: "seed", type: "integer", min: 0, meta: "S", help: "Which images are drawn, and the noise", defaultText: "1" },
    { name: "out", type: "string", meta: "FILE", help: "store: the memory file; recall: grid (.svg or .png); capacity: plot (.svg)" },
    { name: "similarity", type: "string", meta: "NAME[,NAME...]", help: `${SIMILARITY_NAMES.join(", ")} (capacity: a list)`, defaultText: "recall manhattan; capacity the paper's five" },
    { name: "separation", type: "string", meta: "SEP[,SEP...]", help: `${SEPARATION_HELP} (capacity: a list)`, defaultText: "recall max; capacity softmax:1000,max" },
    { name: "normalize", type: "boolean", help: "Normalise scores and weights to sum 1, as the paper", defaultText: "true" },
    { name: "corrupt", type: "string", meta: "KIND:X[,KIND:X...]", help: `${CORRUPTION_HELP} (capacity: a list)`, defaultText: "noise:0.5" },
    { name: "sizes", type: "string", meta: "N,N,...", help: "capacity: numbers of stored images", defaultText: "2,5,10,20,50,100,200,500,1000" },
    { name: "seeds", type: "integer", min: 1, meta: "K", help: "capacity: seeds to average over", defaultText: "3" },
    { name: "method", type: "string", meta: "uhn|pc|ae[,...]", help: "uhn: Universal Hopfield Network; pc: generative PC memory (store writes a PC-graph checkpoint); ae: backprop autoencoder (capacity only). capacity: a list", defaultText: "uhn" },
    { name: "hidden", type: "string", meta: "N[,N...]", help: "pc, ae: hidden (and memory) layer width (capacity: a list)", defaultText: "256" },
    { name: "epochs", type: "integer", min: 0, meta: "E", help: "pc, ae: most training epochs (training stops earlier at energy per entry 2e-6)", defaultText: "300" },
    ...backendFlags,
  ],
  details: [
    "Examples:",
    "  pcgraph memory store --data mnist --count 100 --out digits.pcgm",
    "  pcgraph memory store --method pc --data mnist --count 50 --hidden 256 --out digits-pc.ckpt",
    "  pcgraph memory recall digits-pc.ckpt --corrupt masked:0.5 --out recall.png",
    "  pcgraph memory capacity --method pc,ae --hidden 256 --sizes 10,50 --seeds 1 --corrupt noise:0.447,masked:0.5",
    "  pcgraph memory recall digits.pcgm --corrupt masked:0.5 --similarity euclidean --out recall.svg",
    "  pcgraph memory capacity --data fashion-mnist --corrupt zeroed:0.5 --separation max --sizes 10,100,1000 --out capacity.svg",
  ].join("\n"),
};

function list(flags: Flags, name: string, fallback: string): string[] {
  const raw = (flags[name] as string | undefined) ?? fallback;
  const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name}: empty list`);
  return items;
}

/** One value (recall compares nothing, so a list would be ignored). */
function single(flags: Flags, name: string, fallback: string): string {
  const items = list(flags, name, fallback);
  if (items.length > 1) throw new UsageError(`--${name}: memory recall takes one value, got ${items.length} (capacity takes lists)`);
  return items[0];
}

function parseSimilarity(text: string): SimilarityName {
  try {
    return checkSimilarity(text, "--similarity") as SimilarityName;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseSeparation(text: string): Separation {
  const [kind, parameter] = text.split(":");
  const value = parameter === undefined ? undefined : Number(parameter);
  if (parameter !== undefined && (parameter.trim() === "" || !Number.isFinite(value)))
    throw new UsageError(`--separation: ${JSON.stringify(parameter)} in ${JSON.stringify(text)} is not a number (expected ${SEPARATION_HELP})`);
  try {
    if (kind === "softmax") return resolveSeparation(value === undefined ? "softmax" : { kind, beta: value }, "--separation");
    if (kind === "polynomial") return resolveSeparation(value === undefined ? "polynomial" : { kind, degree: value }, "--separation");
    if ((kind === "identity" || kind === "max") && value === undefined) return resolveSeparation(kind, "--separation");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  throw new UsageError(`--separation: ${JSON.stringify(text)} is not one of ${SEPARATION_HELP}`);
}

function parseCorruption(text: string): QueryCorruption {
  const [kind, parameter] = text.split(":");
  const value = Number(parameter);
  if (parameter === undefined || parameter.trim() === "" || !Number.isFinite(value))
    throw new UsageError(`--corrupt: ${JSON.stringify(text)} needs a number after the colon (${CORRUPTION_HELP})`);
  const corruption = kind === "noise" ? { kind, sigma: value } : kind === "zeroed" || kind === "masked" ? { kind, fraction: value } : null;
  if (!corruption) throw new UsageError(`--corrupt: unknown kind ${JSON.stringify(kind)} (${CORRUPTION_HELP})`);
  try {
    return checkQueryCorruption(corruption as QueryCorruption, "--corrupt");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseSizes(text: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s);
    if (!/^\s*\d+\s*$/.test(s) || n < 1) throw new UsageError(`--sizes: ${JSON.stringify(s)} is not a positive integer`);
    return n;
  });
}

interface Images {
  images: Float32Array;
  count: number;
  shape: ImageShape;
  description: string;
}

function loadImages(value: string): Images & ImagePool {
  if (value === "mnist") {
    const ds = loadBundledMnist();
    return { images: ds.features, count: ds.size, shape: { channels: 1, height: 28, width: 28 }, description: "bundled MNIST (10,000 digits)" };
  }
  if (value === "fashion-mnist") {
    const { test } = loadFashionMnist();
    return { images: test.features, count: test.size, shape: { channels: 1, height: 28, width: 28 }, description: "Fashion-MNIST test images (10,000)" };
  }
  const { train, test, description } = loadData(value, { seed: 1, testFraction: 0, augment: false });
  const ds = test.size > 0 ? test : train;
  const d = ds.features.length / ds.size;
  const fs = ds.featureShape;
  const shape: ImageShape = fs.length === 3 ? { channels: fs[0], height: fs[1], width: fs[2] }
    : Number.isInteger(Math.sqrt(d)) ? { channels: 1, height: Math.sqrt(d), width: Math.sqrt(d) } : { channels: 1, height: 1, width: d };
  return { images: ds.features, count: ds.size, shape, description };
}

/** The flags each action reads; any other is refused rather than ignored. */
const ACTION_FLAGS: Record<string, string[]> = {
  store: ["data", "count", "seed", "out", "backend", "method", "hidden", "epochs", "threads"],
  recall: ["count", "seed", "out", "similarity", "separation", "normalize", "corrupt", "backend", "threads"],
  capacity: ["data", "seed", "out", "similarity", "separation", "normalize", "corrupt", "sizes", "seeds", "backend", "method", "hidden", "epochs", "threads"],
};

type MethodName = "uhn" | "pc" | "ae";
const METHOD_NAMES: readonly MethodName[] = ["uhn", "pc", "ae"];
/** Flags that only the UHN reads, and only the trained memories. */
const UHN_FLAGS = ["similarity", "separation", "normalize"];
const TRAINED_FLAGS = ["hidden", "epochs"];

function parseMethods(flags: Flags, allowed: readonly MethodName[]): MethodName[] {
  const methods = list(flags, "method", "uhn").map((m) => {
    if (!allowed.includes(m as MethodName)) throw new UsageError(`--method: ${JSON.stringify(m)} is not one of ${allowed.join(", ")}`);
    return m as MethodName;
  });
  const refuse = (names: string[], why: string) => {
    const used = names.find((name) => flags[name] !== undefined);
    if (used) throw new UsageError(`--${used} ${why}`);
  };
  if (!methods.includes("uhn")) refuse(UHN_FLAGS, `applies to --method uhn only (methods here: ${methods.join(", ")})`);
  if (!methods.includes("pc") && !methods.includes("ae")) refuse(TRAINED_FLAGS, `applies to --method pc or ae only (methods here: ${methods.join(", ")})`);
  return methods;
}

function parseHidden(flags: Flags): number[] {
  return list(flags, "hidden", "256").map((s) => {
    if (!/^\s*\d+\s*$/.test(s) || Number(s) < 1) throw new UsageError(`--hidden: ${JSON.stringify(s)} is not a positive integer`);
    return Number(s);
  });
}

export async function memoryCommand(action: string, file: string | undefined, flags: Flags, out: Out): Promise<number> {
  const allowed = ACTION_FLAGS[action];
  if (!allowed) throw new UsageError(`unknown action ${JSON.stringify(action)} (expected store, recall or capacity)`);
  const unused = Object.keys(flags).find((name) => !allowed.includes(name));
  if (unused) throw new UsageError(`--${unused} does not apply to memory ${action} (it takes ${allowed.map((f) => `--${f}`).join(", ")})`);
  if (file !== undefined && action !== "recall") throw new UsageError(`memory ${action} takes no MEMORY file (got ${JSON.stringify(file)})`);
  setBackend(await chooseBackend(flags));
  switch (action) {
    case "store": return storeCommand(flags, out);
    case "recall":
      if (!file) throw new UsageError("memory recall needs the MEMORY file (written by pcgraph memory store)");
      return recallCommand(file, flags, out);
    case "capacity": return capacityCommand(flags, out);
    default: throw new UsageError(`unknown action ${JSON.stringify(action)} (expected store, recall or capacity)`);
  }
}

function storeCommand(flags: Flags, out: Out): number {
  const path = flags.out as string | undefined;
  if (!path) throw new UsageError("memory store needs --out FILE");
  const methods = parseMethods(flags, ["uhn", "pc"]);
  if (methods.length !== 1) throw new UsageError(`--method: memory store takes one method, got ${methods.join(", ")}`);
  const dataName = (flags.data as string | undefined) ?? "mnist";
  const data = loadImages(dataName);
  const count = (flags.count as number | undefined) ?? 100;
  if (count > data.count) throw new UsageError(`--count ${count}: the data has ${data.count} images`);
  const seed = (flags.seed as number | undefined) ?? 1;
  if (methods[0] === "pc") {
    const hidden = parseHidden(flags);
    if (hidden.length !== 1) throw new UsageError(`--hidden: memory store takes one width, got ${hidden.length}`);
    storePCMemory({ pool: data, data: dataName, count, seed, hidden: hidden[0], epochs: (flags.epochs as number | undefined) ?? 300, path }, out);
    return 0;
  }
  const d = data.shape.channels * data.shape.height * data.shape.width;
  const patterns = drawPatterns(data.images, data.count, d, count, seed);
  saveMemoryFile(path, {
    count, patternSize: d, imageShape: [data.shape.channels, data.shape.height, data.shape.width],
    source: `${data.description}: ${count} images drawn with seed ${seed}`, patterns,
  });
  out(`stored ${count} images of ${d} values from ${data.description} (seed ${seed}) in ${path}`);
  return 0;
}

function recallCommand(path: string, flags: Flags, out: Out): number {
  const similarity = parseSimilarity(single(flags, "similarity", "manhattan"));
  const separation = parseSeparation(single(flags, "separation", "max"));
  const corruption = parseCorruption(single(flags, "corrupt", "noise:0.5"));
  if (isCheckpointFile(path)) return recallPCCommand(path, corruption, flags, out);
  const file = loadMemoryFile(path);
  const shape: ImageShape = file.imageShape ? { channels: file.imageShape[0], height: file.imageShape[1], width: file.imageShape[2] }
    : { channels: 1, height: 1, width: file.patternSize };
  const shown = Math.min((flags.count as number | undefined) ?? 8, file.count);
  const d = file.patternSize;
  const { queries, mask } = corruptQueries(file.patterns.subarray(0, shown * d), shown, shape, corruption, (flags.seed as number | undefined) ?? 1);
  const memory = new UniversalHopfield({ similarity, separation, normalize: (flags.normalize as boolean | undefined) ?? true, backend: getBackend() });
  try {
    memory.store(Array.from({ length: file.count }, (_, i) => file.patterns.subarray(i * d, (i + 1) * d)));
    const recalledTensor = memory.recall(Array.from({ length: shown }, (_, i) => queries.subarray(i * d, (i + 1) * d)), mask ?? undefined);
    const recalled = recalledTensor.dataSync();
    recalledTensor.dispose();
    out(`memory: ${path} (${file.count} patterns of ${d}; ${file.source})`);
    out(`UHN: similarity ${similarity}, separation ${separationLabel(separation)}, normalize ${memory.normalize}; queries: ${queryCorruptionLabel(corruption)}`);
    out("| stored image | sum of squared errors | paper criterion (<= 60 D/784) |");
    out("| ---: | ---: | --- |");
    let passed = 0;
    for (let b = 0; b < shown; b++) {
      let sse = 0;
      for (let k = 0; k < d; k++) sse += (recalled[b * d + k] - file.patterns[b * d + k]) ** 2;
      const ok = PAPER_CRITERION.accept({ ownError: sse, nearestOtherError: Infinity, neighbourDistance: Infinity, patternSize: d });
      passed += ok ? 1 : 0;
      out(`| ${b} | ${sse.toFixed(3)} | ${ok ? "yes" : "no"} |`);
    }
    out(`recalled ${passed} of ${shown} within the paper's threshold`);
    const target = flags.out as string | undefined;
    if (target) {
      const rows = Array.from({ length: shown }, (_, r) => [
        file.patterns.subarray(r * d, (r + 1) * d), queries.subarray(r * d, (r + 1) * d), recalled.subarray(r * d, (r + 1) * d)]);
      writeGrid(target, rows, shape, `UHN ${similarity}, ${separationLabel(separation)}: ${queryCorruptionLabel(corruption)}`);
      out(`wrote ${target} (rows: stored images; columns: stored, query, recalled)`);
    }
    return 0;
  } finally {
    memory.dispose();
  }
}

/** Writes a grid of rows stored / query / recalled as .png or .svg. */
function writeGrid(target: string, rows: ArrayLike<number>[][], shape: ImageShape, title: string): void {
  const grid = { imageHeight: shape.height, imageWidth: shape.width * shape.channels, scale: 3, gap: 4 };
  const extension = extname(target).toLowerCase();
  if (extension === ".png") writeFileAtomic(target, gridPng(rows, grid));
  else if (extension === ".svg") writeFileAtomic(target, gridSvg(rows, { ...grid, columnLabels: ["stored", "query", "recalled"], title }));
  else throw new UsageError(`--out ${target}: expected a .svg or .png file`);
}

function recallPCCommand(path: string, corruption: QueryCorruption, flags: Flags, out: Out): number {
  const used = UHN_FLAGS.find((name) => flags[name] !== undefined);
  if (used) throw new UsageError(`--${used} applies to a UHN memory file; ${path} is a PC memory`);
  const target = flags.out as string | undefined;
  if (target && ![".png", ".svg"].includes(extname(target).toLowerCase())) throw new UsageError(`--out ${target}: expected a .svg or .png file`);
  const { rows, shape } = recallPCMemory(path, loadImages, corruption, (flags.count as number | undefined) ?? 8, (flags.seed as number | undefined) ?? 1, out);
  if (target) {
    writeGrid(target, rows, shape, `PC memory: ${queryCorruptionLabel(corruption)}`);
    out(`wrote ${target} (rows: stored images; columns: stored, query, recalled)`);
  }
  return 0;
}

function capacityCommand(flags: Flags, out: Out): number {
  const methodNames = parseMethods(flags, METHOD_NAMES);
  const similarities = methodNames.includes("uhn") ? list(flags, "similarity", "dot,normalizedDot,cosine,euclidean,manhattan").map(parseSimilarity) : [];
  const separations = methodNames.includes("uhn") ? list(flags, "separation", "softmax:1000,max").map(parseSeparation) : [];
  const hidden = methodNames.includes("pc") || methodNames.includes("ae") ? parseHidden(flags) : [];
  const epochs = (flags.epochs as number | undefined) ?? 300;
  const corruptions = list(flags, "corrupt", "noise:0.5").map(parseCorruption);
  const sizes = parseSizes((flags.sizes as string | undefined) ?? "2,5,10,20,50,100,200,500,1000");
  const target = flags.out as string | undefined;
  if (target && extname(target).toLowerCase() !== ".svg") throw new UsageError(`--out ${target}: capacity writes an .svg plot`);
  const data = loadImages((flags.data as string | undefined) ?? "mnist");
  const tooMany = sizes.find((n) => n > data.count);
  if (tooMany !== undefined) throw new UsageError(`--sizes: ${tooMany} images requested, the data has ${data.count}`);
  const seedCount = (flags.seeds as number | undefined) ?? 3;
  const first = (flags.seed as number | undefined) ?? 1;
  const seeds = Array.from({ length: seedCount }, (_, i) => first + i);
  const backend = getBackend();
  const seed = first;
  const methods: RecallMethod[] = [
    ...similarities.map((s) => uhnMethod(s, separations, { normalize: (flags.normalize as boolean | undefined) ?? true, backend })),
    ...(methodNames.includes("pc") ? hidden.map((n) => memoryMethod(`PC memory, hidden ${n}`, () => new PCMemory({ hiddenSizes: [n], seed, backend, training: { epochs } }))) : []),
    ...(methodNames.includes("ae") ? hidden.map((n) => memoryMethod(`autoencoder, hidden ${n}`, () => new AutoencoderMemory({ hiddenSizes: [n], seed, backend, training: { epochs } }))) : []),
  ];
  // The trained memories are judged by the PC-memory paper's MSE thresholds as well.
  const criteria: Criterion[] = [PAPER_CRITERION, STRICT_CRITERION, ...(hidden.length > 0 ? [mseCriterion(0.005), mseCriterion(0.001)] : [])];
  const result = runCapacity({ images: data.images, shape: data.shape, sizes, seeds, corruptions, criteria, backend, methods });
  const summaries = summarize(result.records);
  const floors = summarizeFloors(result.floors);
  // Rows: every (method, variant) in the order met; a UHN row is "similarity, separation".
  const rows = [...new Map(result.records.map((r) => [`${r.method}|${r.variant}`, r])).values()]
    .map((r) => ({ method: r.method, variant: r.variant, label: r.method === r.variant ? r.method : `${r.method}, ${r.variant}` }));
  const cell = (row: (typeof rows)[number], n: number, corruption: QueryCorruption, criterion: Criterion) =>
    summaries.find((s) => s.method === row.method && s.variant === row.variant && s.n === n && s.corruption === queryCorruptionLabel(corruption) && s.criterion === criterion.name);
  const floorAt = (n: number, criterion: Criterion) => 100 * (floors.find((f) => f.n === n && f.criterion === criterion.name)?.mean ?? NaN);
  out(`capacity of ${methodNames.join(", ")} on ${data.description}; seeds ${seeds.join(", ")}; % of N stored images recalled (mean over seeds)`);
  for (const criterion of criteria)
    for (const corruption of corruptions) {
      out(`\n${queryCorruptionLabel(corruption)}, ${criterion.name} criterion (${criterion.description}):`);
      out(`| method | ${sizes.map((n) => `N=${n}`).join(" | ")} |`);
      out(`| --- | ${sizes.map(() => "---:").join(" | ")} |`);
      for (const row of rows) {
        const cells = sizes.map((n) => cell(row, n, corruption, criterion));
        out(`| ${row.label} | ${cells.map((c) => (c ? (100 * c.mean).toFixed(1) : "-")).join(" | ")} |`);
      }
      out(`| mean of stored (floor) | ${sizes.map((n) => floorAt(n, criterion).toFixed(1)).join(" | ")} |`);
    }
  if (target) {
    const floorLabel = "mean of stored (floor)";
    const panels = criteria.flatMap((criterion) => corruptions.map((corruption) => ({
      title: `${criterion.name}: ${queryCorruptionLabel(corruption)}`,
      series: [
        ...rows.map((row) => sizes.flatMap((n) => {
          const s = cell(row, n, corruption, criterion);
          return s ? [[n, 100 * s.mean] as [number, number]] : [];
        })),
        sizes.map((n) => [n, floorAt(n, criterion)] as [number, number]),
      ],
    })));
    writeFileAtomic(target, lineChartSvg(panels, {
      title: `Capacity on ${data.description}`,
      subtitle: `mean over ${seeds.length} seed(s); ${criteria.map((c) => `${c.name}: ${c.description}`).join("; ")}`,
      labels: [...rows.map((r) => r.label), floorLabel], styles: { [floorLabel]: { colour: "#888", dash: "5 4", width: 1.5 } },
      xLabel: "N stored images", yLabel: "% recalled", logX: true, percent: true, yRange: [0, 100], columns: corruptions.length,
    }));
    out(`\nwrote ${target}`);
  }
  return 0;
}

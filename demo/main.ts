// The browser demo: trains an MLP on the bundled MNIST digits with Z-IL, charts loss and
// test accuracy live, checks Z-IL's updates against backprop's on the same batch, and
// classifies digits drawn on a canvas.
//
// The training loop is written out here rather than calling fit(): the Z-IL vs BP panel
// needs the batch being trained on, which fit's onBatch callback does not expose. It uses
// the same pieces as fit (seeded batch order per epoch, BatchTensors, gradient engines,
// the optimizer, evaluate), so one epoch here takes the same steps as fit would.
import {
  backendInfo, gradientEngine, layers, predict, ready, sequential, setBackend, tensor,
  type Algorithm, type BackendName, type Graph, type GradientEngine, type Tensor,
} from "../src/index.js";
import { batches, makeDataset, numBatches, subset, trainTestSplit, type Dataset } from "../src/train/data/dataset.js";
import { BatchTensors, evaluate } from "../src/train/evaluate.js";
import { epochSeed } from "../src/train/fit.js";
import { createOptimizer, type Optimizer } from "../src/train/optimizers.js";

// ---------------------------------------------------------------- settings (query string)

const params = new URLSearchParams(location.search);
function intParam(name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  const value = raw === null ? NaN : Number(raw);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}
function numberParam(name: string, fallback: number): number {
  const value = Number(params.get(name) ?? NaN);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const settings = {
  backend: (params.get("backend") ?? "") as BackendName | "",
  epochs: intParam("epochs", 5, 1, 1000),
  hidden: intParam("hidden", 256, 1, 4096),
  batchSize: intParam("batch", 64, 1, 8000),
  learningRate: numberParam("lr", 1e-3),
  trainLimit: intParam("train", 0, 0, 1e6),
  seed: intParam("seed", 1, 0, 2 ** 31 - 1),
  checkEvery: intParam("check", 10, 1, 1e6),
  /** zil (default); il or fpa train with an approximate PC rule instead, so the panel shows what a mismatch looks like. */
  algorithm: (["zil", "il", "fpa"].includes(params.get("algorithm") ?? "") ? params.get("algorithm") : "zil") as Exclude<Algorithm, "bp">,
  testFraction: 0.2,
};

// ---------------------------------------------------------------- page elements

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  backend: $("backend"),
  backendSwitch: $("backend-switch"),
  dataset: $("dataset"),
  model: $("model"),
  train: $<HTMLButtonElement>("train"),
  reset: $<HTMLButtonElement>("reset"),
  status: $("status"),
  chart: $<HTMLCanvasElement>("chart"),
  testAccuracy: $("test-accuracy"),
  testLoss: $("test-loss"),
  trainLoss: $("train-loss"),
  epochsDone: $("epochs-done"),
  checkEvery: $("check-every"),
  zilTable: $<HTMLTableElement>("zil-vs-bp"),
  zilInfo: $("zil-check-info"),
  zilVerdict: $("zil-verdict"),
  draw: $<HTMLCanvasElement>("draw"),
  clear: $<HTMLButtonElement>("clear"),
  preview: $<HTMLCanvasElement>("input-preview"),
  prediction: $("prediction"),
  predictionNote: $("prediction-note"),
  probs: $("probs"),
};

const algorithmLabel = { zil: "Z-IL", il: "IL", fpa: "FPA" }[settings.algorithm];
const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
const sci = (x: number) => (x === 0 ? "0" : x.toExponential(1));
const nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function setState(state: "loading" | "ready" | "training" | "error") {
  document.body.dataset.state = state;
}

function showError(error: unknown) {
  setState("error");
  ui.status.classList.add("error");
  ui.status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  console.error(error);
}

// ---------------------------------------------------------------- data

/** Reads mnist.bin (see scripts/build-demo.mjs for the layout) into a dataset of [784] samples in [0, 1]. */
async function loadDigits(url: string): Promise<Dataset> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== "PCMN") throw new Error(`${url}: not a digit file (magic ${JSON.stringify(magic)})`);
  const count = view.getUint32(4, true);
  const pixels = view.getUint16(8, true) * view.getUint16(10, true);
  if (bytes.length !== 12 + count + count * pixels) throw new Error(`${url}: ${bytes.length} bytes, expected ${12 + count + count * pixels}`);
  const labels = Int32Array.from(bytes.subarray(12, 12 + count));
  const raw = bytes.subarray(12 + count);
  const features = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) features[i] = raw[i] / 255;
  return makeDataset("mnist (bundled)", features, labels, [pixels], 10);
}

// ---------------------------------------------------------------- model and training state

interface LossPoint { x: number; loss: number }
interface EpochPoint { x: number; accuracy: number; loss: number }
interface ParameterDifference { name: string; shape: number[]; abs: number; rel: number; maxBp: number }

let train: Dataset;
let test: Dataset;
let model: {
  graph: Graph;
  optimizer: Optimizer;
  zil: GradientEngine;
  bp: GradientEngine;
  tensors: BatchTensors;
  epochsDone: number;
  steps: number;
  lossPoints: LossPoint[];
  epochPoints: EpochPoint[];
} | null = null;
let training = false;
let stopRequested = false;

function buildModel() {
  disposeModel();
  const graph = sequential([784], [layers.dense(settings.hidden), layers.relu(), layers.dense(10)], { loss: "softmaxCrossEntropy", seed: settings.seed });
  model = {
    graph,
    optimizer: createOptimizer({ kind: "adam", learningRate: settings.learningRate }),
    zil: gradientEngine(graph, settings.algorithm),
    bp: gradientEngine(graph, "bp"),
    tensors: new BatchTensors(graph),
    epochsDone: 0,
    steps: 0,
    lossPoints: [],
    epochPoints: [],
  };
  ui.model.textContent = `784-${settings.hidden}-10 MLP, ReLU, softmax cross-entropy; Adam lr ${settings.learningRate}, batch ${settings.batchSize}; ` +
    `${nf.format(graph.parameterCount)} parameters`;
  ui.testAccuracy.textContent = "–";
  ui.testLoss.textContent = "–";
  ui.trainLoss.textContent = "–";
  ui.epochsDone.textContent = "0";
  document.body.dataset.epochsDone = "0";
  renderDifferences(null);
  drawChart();
  if (lastInput) classify(lastInput);
}

function disposeModel() {
  if (!model) return;
  model.zil.dispose();
  model.bp.dispose();
  model.tensors.dispose();
  model.optimizer.dispose();
  model.graph.dispose();
  model = null;
}

/** Largest |Z-IL - BP| per parameter, absolute and relative to the largest |BP| entry. */
function compare(zil: Map<string, Tensor>, bp: Map<string, Float32Array | Float64Array>, graph: Graph): ParameterDifference[] {
  return graph.parameters.map((p) => {
    const a = zil.get(p.name)!.dataSync();
    const b = bp.get(p.name)!;
    let abs = 0;
    let maxBp = 0;
    for (let i = 0; i < b.length; i++) {
      abs = Math.max(abs, Math.abs(a[i] - b[i]));
      maxBp = Math.max(maxBp, Math.abs(b[i]));
    }
    return { name: p.name, shape: [...p.shape], abs, rel: maxBp > 0 ? abs / maxBp : abs, maxBp };
  });
}

const yieldToBrowser = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function runTraining() {
  if (!model || training) return;
  const m = model;
  training = true;
  stopRequested = false;
  setState("training");
  ui.train.textContent = "Stop";
  ui.train.classList.add("stop");
  ui.reset.disabled = true;
  const perEpoch = numBatches(train.size, settings.batchSize);
  const plotEvery = Math.max(1, Math.round(perEpoch / 50));
  try {
    for (let e = 0; e < settings.epochs && !stopRequested; e++) {
      const epochIndex = m.epochsDone;
      const order = batches(train, settings.batchSize, { seed: epochSeed(settings.seed, epochIndex), shuffle: true, reuseBuffers: true });
      const started = performance.now();
      let lastYield = started;
      let samples = 0;
      let lossSum = 0;
      let windowLoss = 0;
      let windowCount = 0;
      let b = 0;
      for (const batch of order) {
        b++;
        const feeds = m.tensors.load(batch);
        const check = m.steps === 0 || b % settings.checkEvery === 0;
        let bpGradients: Map<string, Float32Array | Float64Array> | null = null;
        let bpLoss = NaN;
        if (check) {
          const result = m.bp.run(feeds);
          bpLoss = result.loss;
          bpGradients = new Map([...result.gradients].map(([name, t]) => [name, t.dataSync()]));
        }
        const { loss, gradients } = m.zil.run(feeds);
        if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at epoch ${epochIndex + 1}, batch ${b}; try a lower learning rate (?lr=)`);
        if (bpGradients) {
          renderDifferences({ rows: compare(gradients, bpGradients, m.graph), epoch: epochIndex + 1, batch: b, step: m.steps + 1, zilLoss: loss, bpLoss });
        }
        m.optimizer.step(m.graph, gradients);
        m.steps++;
        samples += batch.size;
        lossSum += loss * batch.size;
        windowLoss += loss;
        windowCount++;
        if (windowCount === plotEvery || b === perEpoch) {
          m.lossPoints.push({ x: epochIndex + b / perEpoch, loss: windowLoss / windowCount });
          windowLoss = 0;
          windowCount = 0;
        }
        const now = performance.now();
        if (now - lastYield > 40 || b === perEpoch) {
          const rate = samples / Math.max((now - started) / 1000, 1e-9);
          ui.status.textContent = `epoch ${epochIndex + 1} (${e + 1}/${settings.epochs}) · batch ${b}/${perEpoch} · ` +
            `${nf.format(rate)} samples/s · loss ${fmt(loss)}`;
          drawChart();
          await yieldToBrowser();
          lastYield = performance.now();
          if (stopRequested) break;
        }
      }
      if (b < perEpoch) break; // stopped mid-epoch: the partial epoch is not evaluated
      const evaluation = evaluate(m.graph, test, { batchSize: 256 });
      const seconds = (performance.now() - started) / 1000;
      m.epochsDone++;
      m.epochPoints.push({ x: m.epochsDone, accuracy: evaluation.accuracy, loss: evaluation.loss });
      ui.testAccuracy.textContent = pct(evaluation.accuracy);
      ui.testLoss.textContent = fmt(evaluation.loss);
      ui.trainLoss.textContent = fmt(lossSum / samples);
      ui.epochsDone.textContent = String(m.epochsDone);
      ui.status.textContent = `epoch ${m.epochsDone} done in ${seconds.toFixed(2)} s · ${nf.format(samples / seconds)} samples/s · ` +
        `test accuracy ${pct(evaluation.accuracy)}`;
      document.body.dataset.epochsDone = String(m.epochsDone);
      drawChart();
      if (lastInput) classify(lastInput);
      await yieldToBrowser();
    }
    if (stopRequested) ui.status.textContent += " · stopped";
    setState("ready");
  } catch (error) {
    showError(error);
  } finally {
    training = false;
    if (lastInput) classify(lastInput); // the note no longer says "(training…)"
    ui.train.textContent = "Train";
    ui.train.classList.remove("stop");
    ui.reset.disabled = false;
  }
}

// ---------------------------------------------------------------- Z-IL vs BP panel

function renderDifferences(check: { rows: ParameterDifference[]; epoch: number; batch: number; step: number; zilLoss: number; bpLoss: number } | null) {
  const body = ui.zilTable.tBodies[0];
  body.replaceChildren();
  if (!check) {
    ui.zilInfo.textContent = "press Train: the first check runs on the first batch.";
    ui.zilVerdict.textContent = "";
    ui.zilVerdict.className = "verdict";
    return;
  }
  let worst = 0;
  for (const row of check.rows) {
    const tr = document.createElement("tr");
    tr.dataset.param = row.name;
    tr.dataset.rel = String(row.rel);
    const ok = row.rel <= 1e-4;
    worst = Math.max(worst, row.rel);
    const name = document.createElement("td");
    const shape = document.createElement("span");
    shape.className = "shape";
    shape.textContent = ` ${row.shape.join("×")}`;
    name.append(row.name, shape);
    tr.append(name);
    for (const [text, cls] of [[sci(row.abs), ""], [sci(row.rel), `rel ${ok ? "ok" : "bad"}`], [sci(row.maxBp), ""]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  }
  ui.zilInfo.textContent = `checked at step ${check.step} (epoch ${check.epoch}, batch ${check.batch}), before the update; ` +
    `loss ${algorithmLabel} ${check.zilLoss.toFixed(6)}, BP ${check.bpLoss.toFixed(6)}.`;
  const ok = worst <= 1e-4;
  ui.zilVerdict.className = `verdict ${ok ? "ok" : "bad"}`;
  ui.zilVerdict.textContent = worst === 0
    ? `largest relative difference 0: ${algorithmLabel}'s update is bit-for-bit backprop's`
    : ok
      ? `largest relative difference ${sci(worst)}: the same update, up to float32 rounding`
      : `largest relative difference ${sci(worst)}: ${algorithmLabel} and BP disagree`;
}

// ---------------------------------------------------------------- chart

function drawChart() {
  const canvas = ui.chart;
  const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
  const cssWidth = 640;
  const cssHeight = 280;
  if (canvas.width !== cssWidth * ratio) {
    canvas.width = cssWidth * ratio;
    canvas.height = cssHeight * ratio;
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, cssWidth, cssHeight);
  const left = 52;
  const right = cssWidth - 58;
  const top = 28;
  const bottom = cssHeight - 36;
  const lossPoints = model?.lossPoints ?? [];
  const epochPoints = model?.epochPoints ?? [];
  const xMax = Math.max(settings.epochs, Math.ceil(lossPoints.length ? lossPoints[lossPoints.length - 1].x : 0), 1);
  const lossMax = Math.max(0.5, ...lossPoints.map((p) => p.loss), ...epochPoints.map((p) => p.loss)) * 1.05;
  const accMin = Math.min(0.8, ...epochPoints.map((p) => Math.floor(p.accuracy * 20) / 20));
  const X = (x: number) => left + (x / xMax) * (right - left);
  const YL = (loss: number) => bottom - (loss / lossMax) * (bottom - top);
  const YA = (acc: number) => bottom - ((acc - accMin) / (1 - accMin)) * (bottom - top);

  // grid and axes
  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#eceef2";
  ctx.fillStyle = "#667085";
  ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const y = top + (i / 4) * (bottom - top);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(right, y);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillStyle = "#2f6fde";
    ctx.fillText((lossMax * (1 - i / 4)).toFixed(2), left - 6, y);
    ctx.textAlign = "left";
    ctx.fillStyle = "#e07a1f";
    ctx.fillText(`${((1 - (i / 4) * (1 - accMin)) * 100).toFixed(0)}%`, right + 6, y);
  }
  ctx.fillStyle = "#667085";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let e = 0; e <= xMax; e += xStep) ctx.fillText(String(e), X(e), bottom + 6);
  ctx.fillText("epoch", (left + right) / 2, bottom + 20);
  ctx.strokeStyle = "#b8c0cc";
  ctx.strokeRect(left, top, right - left, bottom - top);

  // legend
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.fillStyle = "#2f6fde";
  ctx.fillRect(left, 10, 14, 3);
  ctx.fillStyle = "#1d2330";
  ctx.fillText(`train loss (${algorithmLabel}, per few batches)`, left + 20, 11);
  ctx.fillStyle = "#e07a1f";
  ctx.beginPath();
  ctx.arc(left + 257, 11, 4, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#1d2330";
  ctx.fillText("test accuracy (per epoch)", left + 266, 11);

  // training loss
  ctx.strokeStyle = "#2f6fde";
  ctx.lineWidth = 2;
  ctx.lineJoin = "round";
  if (lossPoints.length === 1) {
    ctx.fillStyle = "#2f6fde";
    ctx.beginPath();
    ctx.arc(X(lossPoints[0].x), YL(lossPoints[0].loss), 3, 0, 2 * Math.PI);
    ctx.fill();
  } else if (lossPoints.length > 1) {
    ctx.beginPath();
    lossPoints.forEach((p, i) => (i ? ctx.lineTo(X(p.x), YL(p.loss)) : ctx.moveTo(X(p.x), YL(p.loss))));
    ctx.stroke();
  }

  // test accuracy
  ctx.strokeStyle = "#e07a1f";
  ctx.fillStyle = "#e07a1f";
  if (epochPoints.length > 1) {
    ctx.beginPath();
    epochPoints.forEach((p, i) => (i ? ctx.lineTo(X(p.x), YA(p.accuracy)) : ctx.moveTo(X(p.x), YA(p.accuracy))));
    ctx.stroke();
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.font = "600 11px system-ui, sans-serif";
  for (const p of epochPoints) {
    ctx.beginPath();
    ctx.arc(X(p.x), YA(p.accuracy), 4.5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillText(`${(p.accuracy * 100).toFixed(1)}%`, Math.min(X(p.x), right - 18), YA(p.accuracy) - 7);
  }
  canvas.dataset.points = String(lossPoints.length + epochPoints.length);
  canvas.dataset.lossPoints = String(lossPoints.length);
  canvas.dataset.epochPoints = String(epochPoints.length);
}

// ---------------------------------------------------------------- drawing and prediction

const BRUSH = 22;
const drawCtx = ui.draw.getContext("2d", { willReadFrequently: true })!;
let lastInput: Float32Array | null = null;

function clearDrawing() {
  drawCtx.fillStyle = "#000";
  drawCtx.fillRect(0, 0, ui.draw.width, ui.draw.height);
  lastInput = null;
  ui.preview.getContext("2d")!.clearRect(0, 0, 28, 28);
  ui.prediction.textContent = "–";
  ui.prediction.dataset.digit = "";
  ui.predictionNote.textContent = "";
  renderProbabilities(null);
}

/**
 * MNIST-style preprocessing of the drawing (white on black): the ink's bounding box is
 * scaled so its longer side is 20 pixels (area-averaged, which antialiases), and placed in
 * a 28x28 field so that its centre of mass lands at the centre; values in [0, 1].
 */
function toMnistInput(image: ImageData): Float32Array | null {
  const { width, height, data } = image;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  let mass = 0, mx = 0, my = 0;
  const ink = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[(y * width + x) * 4] / 255;
      if (v < 0.05) continue;
      ink[y * width + x] = v;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0 || mass === 0) return null;
  const scale = 20 / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  // continuous target coordinate of source coordinate s: offset + (s - origin) * scale
  const ox = 14 - (mx / mass - x0) * scale;
  const oy = 14 - (my / mass - y0) * scale;
  const out = new Float32Array(784);
  for (let y = y0; y <= y1; y++) {
    const ty0 = oy + (y - y0) * scale;
    const ty1 = ty0 + scale;
    for (let x = x0; x <= x1; x++) {
      const v = ink[y * width + x];
      if (v === 0) continue;
      const tx0 = ox + (x - x0) * scale;
      const tx1 = tx0 + scale;
      for (let ty = Math.max(0, Math.floor(ty0)); ty < Math.min(28, Math.ceil(ty1)); ty++) {
        const hy = Math.min(ty + 1, ty1) - Math.max(ty, ty0);
        if (hy <= 0) continue;
        for (let tx = Math.max(0, Math.floor(tx0)); tx < Math.min(28, Math.ceil(tx1)); tx++) {
          const hx = Math.min(tx + 1, tx1) - Math.max(tx, tx0);
          if (hx > 0) out[ty * 28 + tx] += v * hx * hy;
        }
      }
    }
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, v);
  if (peak === 0) return null;
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, out[i] / peak);
  return out;
}

function showPreview(input: Float32Array) {
  const ctx = ui.preview.getContext("2d")!;
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(input[i] * 255);
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

function renderProbabilities(probabilities: number[] | null) {
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  ui.probs.replaceChildren(
    ...Array.from({ length: 10 }, (_, digit) => {
      const p = probabilities?.[digit] ?? 0;
      const row = document.createElement("div");
      row.className = `row${digit === best ? " top" : ""}`;
      row.dataset.digit = String(digit);
      row.dataset.prob = String(p);
      const label = document.createElement("span");
      label.textContent = String(digit);
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      bar.append(fill);
      const value = document.createElement("span");
      value.className = "pct";
      value.textContent = probabilities ? `${(p * 100).toFixed(1)}%` : "";
      row.append(label, bar, value);
      return row;
    }),
  );
}

function classify(input: Float32Array) {
  if (!model) return;
  lastInput = input;
  const x = tensor(input, [1, 784]);
  let logits: Float32Array | Float64Array;
  try {
    const out = predict(model.graph, x);
    logits = out.dataSync();
    out.dispose();
  } finally {
    x.dispose();
  }
  const top = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  const probabilities = exps.map((v) => v / sum);
  const digit = probabilities.indexOf(Math.max(...probabilities));
  ui.prediction.textContent = String(digit);
  ui.prediction.dataset.digit = String(digit);
  ui.predictionNote.textContent = model.epochsDone === 0 && model.steps === 0
    ? "the model is untrained: press Train first"
    : `${(probabilities[digit] * 100).toFixed(1)}% sure, after ${model.epochsDone} epoch${model.epochsDone === 1 ? "" : "s"}` +
      (training ? " (training…)" : "");
  renderProbabilities(probabilities);
}

function readDrawing() {
  const input = toMnistInput(drawCtx.getImageData(0, 0, ui.draw.width, ui.draw.height));
  if (!input) return;
  showPreview(input);
  classify(input);
}

function setUpDrawing() {
  let drawing = false;
  let last: { x: number; y: number } | null = null;
  const point = (event: PointerEvent) => {
    const rect = ui.draw.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) * ui.draw.width) / rect.width, y: ((event.clientY - rect.top) * ui.draw.height) / rect.height };
  };
  const strokeTo = (p: { x: number; y: number }) => {
    drawCtx.strokeStyle = "#fff";
    drawCtx.fillStyle = "#fff";
    drawCtx.lineWidth = BRUSH;
    drawCtx.lineCap = "round";
    drawCtx.lineJoin = "round";
    if (!last) {
      drawCtx.beginPath();
      drawCtx.arc(p.x, p.y, BRUSH / 2, 0, 2 * Math.PI);
      drawCtx.fill();
    } else {
      drawCtx.beginPath();
      drawCtx.moveTo(last.x, last.y);
      drawCtx.lineTo(p.x, p.y);
      drawCtx.stroke();
    }
    last = p;
  };
  ui.draw.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    drawing = true;
    last = null;
    ui.draw.setPointerCapture(event.pointerId);
    strokeTo(point(event));
  });
  ui.draw.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const events = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) strokeTo(point(e));
  });
  const end = (event: PointerEvent) => {
    if (!drawing) return;
    drawing = false;
    last = null;
    if (ui.draw.hasPointerCapture(event.pointerId)) ui.draw.releasePointerCapture(event.pointerId);
    readDrawing();
  };
  ui.draw.addEventListener("pointerup", end);
  ui.draw.addEventListener("pointercancel", end);
  ui.clear.addEventListener("click", clearDrawing);
}

// ---------------------------------------------------------------- start-up

async function main() {
  clearDrawing();
  drawChart();
  setUpDrawing();
  ui.checkEvery.textContent = String(settings.checkEvery);
  for (const el of document.querySelectorAll(".algo")) el.textContent = algorithmLabel;
  if (settings.algorithm !== "zil")
    $("algo-note").textContent = `(${algorithmLabel} only approximates backprop, so a visible difference is expected here; drop ?algorithm= for Z-IL.)`;

  const names: BackendName[] = ["wasm-simd", "wasm-scalar", "reference-f64"];
  if (settings.backend && !names.includes(settings.backend))
    throw new Error(`?backend=${settings.backend}: expected one of ${names.join(", ")}`);
  if (settings.backend) {
    await ready(settings.backend);
    setBackend(settings.backend);
  } else await ready();
  const info = backendInfo();
  ui.backend.textContent = `${info.name} (${info.simd ? "SIMD" : info.dtype === "float64" ? "float64 reference" : "scalar"}, ${info.dtype})`;
  ui.backend.dataset.name = info.name;
  ui.backend.title = `wasm SIMD supported by this browser: ${info.simdSupportedByRuntime ? "yes" : "no"}`;
  const other = info.simd ? "wasm-scalar" : info.simdSupportedByRuntime ? "wasm-simd" : null;
  if (other) {
    const link = document.createElement("a");
    const query = new URLSearchParams(location.search);
    query.set("backend", other);
    link.href = `?${query}`;
    link.textContent = `switch to ${other}`;
    ui.backendSwitch.replaceChildren(link);
  }

  ui.status.textContent = "loading digits…";
  const all = await loadDigits("mnist.bin");
  const split = trainTestSplit(all, settings.testFraction, settings.seed);
  train = settings.trainLimit > 0 && settings.trainLimit < split.train.size
    ? subset(split.train, Array.from({ length: settings.trainLimit }, (_, i) => i), "mnist[train]")
    : split.train;
  test = split.test;
  ui.dataset.textContent = `${nf.format(all.size)} bundled MNIST digits: ${nf.format(train.size)} train / ${nf.format(test.size)} test (seed ${settings.seed})`;

  buildModel();
  ui.train.disabled = false;
  ui.reset.disabled = false;
  ui.status.textContent = `ready: press Train for ${settings.epochs} epoch${settings.epochs === 1 ? "" : "s"} of ${algorithmLabel}`;
  setState("ready");

  ui.train.addEventListener("click", () => {
    if (training) stopRequested = true;
    else void runTraining();
  });
  ui.reset.addEventListener("click", () => {
    if (training) return;
    buildModel();
    ui.status.textContent = "weights re-initialised";
  });
}

main().catch(showError);

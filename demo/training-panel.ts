// The training panel: an MLP trained on the bundled digits with Z-IL (or IL / FPA), with a
// live loss and accuracy chart. Every few batches backprop runs on the same batch and the
// Z-IL vs BP panel shows the difference.
//
// The training loop is written out here rather than calling fit(): the Z-IL vs BP panel
// needs the batch being trained on, which fit's onBatch callback does not expose. It uses
// the same pieces as fit (seeded batch order per epoch, BatchTensors, gradient engines,
// the optimizer, evaluate), so one epoch here takes the same steps as fit would.
import { gradientEngine, layers, sequential, type Graph, type GradientEngine } from "../src/index.js";
import { batches, numBatches, type Dataset } from "../src/train/data/dataset.js";
import { BatchTensors, evaluate } from "../src/train/evaluate.js";
import { epochSeed } from "../src/train/fit.js";
import { createOptimizer, type Optimizer } from "../src/train/optimizers.js";
import { drawChart, type EpochPoint, type LossPoint } from "./chart.js";
import { classify, lastInput, type Classifier } from "./draw-panel.js";
import { $, fmt, nf, pct, setState, showError, yieldToBrowser } from "./page.js";
import { settings } from "./settings.js";
import { compare, renderDifferences } from "./zil-panel.js";

const ui = {
  model: $("model"),
  train: $<HTMLButtonElement>("train"),
  reset: $<HTMLButtonElement>("reset"),
  status: $("status"),
  chart: $<HTMLCanvasElement>("chart"),
  testAccuracy: $("test-accuracy"),
  testLoss: $("test-loss"),
  trainLoss: $("train-loss"),
  epochsDone: $("epochs-done"),
};

/** Redraws the chart from the current model's points. */
export function redraw(): void {
  drawChart(ui.chart, model?.lossPoints ?? [], model?.epochPoints ?? [], settings.epochs);
}

let train: Dataset;
let test: Dataset;

/** The digits to train and test on (set once they are loaded). */
export function useData(trainSet: Dataset, testSet: Dataset): void {
  train = trainSet;
  test = testSet;
}
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

/** Asks a running training to stop after the current batch. */
export function requestStop(): void {
  stopRequested = true;
}

export function isTraining(): boolean {
  return training;
}

/** The model as the drawing panel sees it. */
export function classifier(): Classifier | null {
  return model ? { graph: model.graph, epochsDone: model.epochsDone, steps: model.steps, training } : null;
}

export function buildModel(): void {
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
  redraw();
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

export async function runTraining(): Promise<void> {
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
          redraw();
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
      redraw();
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

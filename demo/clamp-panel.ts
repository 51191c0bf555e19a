// The clamp-anything panel: one PC graph trained here on the digits (by default the
// generative hierarchy label -> hidden -> image; ?pcgraph=full for the fully connected
// graph), then queried by clamping: draw on the clamped half of the image and watch the
// other half relax into place step by step, or clamp a label and watch a digit appear.
// Each query is `PCGraph.querySteps`: one relaxation step per animation frame.
import { fullyConnected, hierarchical, PCGraph, subset, type Dataset, type PCGraphSpec } from "../src/index.js";
import { $, drawImage, nf, yieldToBrowser } from "./page.js";
import { paintWhileDragging } from "./pointer-painting.js";
import { settings } from "./settings.js";

const SIDE = 28;
const PIXELS = SIDE * SIDE;

const ui = {
  train: $<HTMLButtonElement>("pc-train"),
  model: $("pc-model"),
  status: $("pc-status"),
  canvas: $<HTMLCanvasElement>("pc-canvas"),
  complete: $<HTMLButtonElement>("pc-complete"),
  sample: $<HTMLButtonElement>("pc-sample"),
  clear: $<HTMLButtonElement>("pc-clear"),
  labels: $("pc-labels"),
  energy: $<HTMLCanvasElement>("pc-energy"),
  step: $("pc-step"),
  labelValues: $("pc-label-values"),
};

let net: PCGraph | null = null;
let trainSet: Dataset;
let testSet: Dataset;
let busy = false;
/** The image on the canvas: what the user drew (clamped part) and what relaxation wrote (free part). */
const image = new Float32Array(PIXELS);
let region: "top" | "left" = "top";

function visible(): number[] {
  return Array.from({ length: PIXELS }, (_, i) => (region === "top" ? Math.floor(i / SIDE) < SIDE / 2 : i % SIDE < SIDE / 2) ? 1 : 0);
}

function setPanelState(state: "untrained" | "training" | "ready" | "relaxing"): void {
  document.body.dataset.pcState = state;
  const idle = state === "ready";
  ui.complete.disabled = !idle;
  for (const b of ui.labels.querySelectorAll("button")) (b as HTMLButtonElement).disabled = !idle;
  ui.train.disabled = state === "training" || state === "relaxing";
}

function spec(): PCGraphSpec {
  if (settings.pcGraph === "full") return fullyConnected([["label", 10], ["hidden", settings.pcHidden, "tanh"], ["sensory", PIXELS, "tanh"]]);
  return hierarchical([["sensory", PIXELS, "tanh"], ["hidden", settings.pcHidden, "tanh"], ["label", 10]], { direction: "backward" });
}

/** The canvas: the image, with the free part tinted. */
function render(): void {
  drawImage(ui.canvas, image);
  const ctx = ui.canvas.getContext("2d")!;
  const scale = ui.canvas.width / SIDE;
  ctx.fillStyle = "rgba(47, 111, 222, 0.18)";
  if (region === "top") ctx.fillRect(0, (SIDE / 2) * scale, ui.canvas.width, (SIDE / 2) * scale);
  else ctx.fillRect((SIDE / 2) * scale, 0, (SIDE / 2) * scale, ui.canvas.height);
  const mask = visible();
  let ink = 0;
  for (let i = 0; i < PIXELS; i++) if (!mask[i]) ink += image[i];
  ui.canvas.dataset.freeInk = ink.toFixed(3);
}

function drawEnergy(energies: number[]): void {
  const canvas = ui.energy;
  const ctx = canvas.getContext("2d")!;
  const w = canvas.width;
  const h = canvas.height;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#b8c0cc";
  ctx.strokeRect(30, 8, w - 38, h - 28);
  if (energies.length === 0) return;
  const hi = Math.max(...energies);
  const lo = Math.min(0, ...energies);
  const x = (i: number) => 30 + (i / Math.max(settings.pcSteps, 1)) * (w - 38);
  const y = (e: number) => h - 20 - ((e - lo) / (hi - lo || 1)) * (h - 28);
  ctx.strokeStyle = "#2f6fde";
  ctx.lineWidth = 2;
  ctx.beginPath();
  energies.forEach((e, i) => (i ? ctx.lineTo(x(i), y(e)) : ctx.moveTo(x(i), y(e))));
  ctx.stroke();
  ctx.fillStyle = "#667085";
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillText(hi.toFixed(2), 2, 14);
  ctx.fillText(lo.toFixed(2), 2, h - 20);
  ctx.fillText("inference step", w / 2 - 30, h - 4);
}

function showLabels(values: ArrayLike<number> | null): void {
  ui.labelValues.replaceChildren(
    ...Array.from({ length: 10 }, (_, d) => {
      const span = document.createElement("span");
      span.className = "unit";
      span.textContent = values ? `${d}: ${values[d].toFixed(2)}` : `${d}: –`;
      return span;
    }),
  );
}

/** Runs one query step by step, drawing the image and the energy after each step. */
async function animate(kind: string, query: Parameters<PCGraph["querySteps"]>[0]): Promise<void> {
  if (!net || busy) return;
  busy = true;
  setPanelState("relaxing");
  const energies: number[] = [];
  ui.canvas.dataset.query = kind;
  try {
    const steps = net.querySteps(query);
    for (;;) {
      const next = await steps.next();
      if (next.done) break;
      const step = next.value;
      energies.push(step.energy);
      image.set(step.read("sensory"));
      if (query.read.includes("label")) showLabels(step.read("label"));
      render();
      drawEnergy(energies);
      ui.step.textContent = `step ${step.step}: energy per sample ${step.energy.toFixed(4)}`;
      ui.step.dataset.step = String(step.step);
      ui.step.dataset.firstEnergy = String(energies[0]);
      ui.step.dataset.energy = String(step.energy);
      await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
    }
    ui.status.textContent = `${kind}: ${energies.length - 1} steps, energy per sample ${energies[0].toFixed(3)} → ${energies[energies.length - 1].toFixed(3)}`;
  } catch (error) {
    ui.status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
    console.error(error);
  } finally {
    busy = false;
    setPanelState("ready");
  }
}

function complete(): Promise<void> {
  const mask = visible();
  return animate("complete", {
    clamp: { sensory: { values: image, mask } }, read: ["sensory", "label"], steps: settings.pcSteps, gamma: 0.05, tolerance: 0,
  });
}

function generate(digit: number): Promise<void> {
  const label = Array.from({ length: 10 }, (_, d) => (d === digit ? 1 : 0));
  showLabels(label);
  // The image starts blank (the other free units from their predictions), so the digit
  // builds up over the steps instead of appearing with the first prediction.
  return animate(`generate:${digit}`, {
    clamp: { label }, start: { sensory: new Float32Array(PIXELS) }, read: ["sensory"], steps: settings.pcSteps, gamma: 0.05, tolerance: 0,
  });
}

async function train(): Promise<void> {
  if (busy) return;
  busy = true;
  setPanelState("training");
  net?.dispose();
  net = new PCGraph(spec(), { seed: settings.seed });
  const data = settings.pcTrain > 0 && settings.pcTrain < trainSet.size ? subset(trainSet, [...Array(settings.pcTrain).keys()]) : trainSet;
  ui.model.textContent = `${settings.pcGraph === "full" ? "fully connected 10+" + settings.pcHidden + "+784" : "generative hierarchy 10-" + settings.pcHidden + "-784"}; ` +
    `${nf.format(net.parameterCount)} parameters; PC, T=20, γ=0.1, Adam 1e-3`;
  const started = performance.now();
  let lastYield = started;
  try {
    const history = await net.fit({ train: data }, {
      epochs: settings.pcEpochs, batchSize: 64, steps: 20, gamma: 0.1, optimizer: { kind: "adam", learningRate: 1e-3 }, seed: settings.seed,
      onBatch: async (info) => {
        if (performance.now() - lastYield < 40) return;
        ui.status.textContent = `training: epoch ${info.epoch}/${info.epochs}, batch ${info.batch}/${info.batches}, energy per sample ${info.energy.toFixed(3)}, ` +
          `${nf.format(info.samplesPerSecond)} samples/s`;
        await yieldToBrowser();
        lastYield = performance.now();
      },
    });
    const last = history.epochs[history.epochs.length - 1];
    const accuracy = net.accuracy(subset(testSet, [...Array(Math.min(500, testSet.size)).keys()]));
    ui.status.textContent = `trained ${history.epochs.length} epoch${history.epochs.length === 1 ? "" : "s"} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(energy per sample ${last.trainEnergy.toFixed(3)}); classification by relaxation ${(100 * accuracy).toFixed(1)}% on 500 test digits. ` +
      "Draw on the clamped half and press Complete, or click a label.";
    ui.status.dataset.accuracy = String(accuracy);
    busy = false;
    setPanelState("ready");
  } catch (error) {
    busy = false;
    setPanelState("untrained");
    ui.status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
    console.error(error);
  }
}

function setUpDrawing(): void {
  const paint = (event: PointerEvent) => {
    const rect = ui.canvas.getBoundingClientRect();
    const cx = ((event.clientX - rect.left) / rect.width) * SIDE;
    const cy = ((event.clientY - rect.top) / rect.height) * SIDE;
    const mask = visible();
    for (let y = Math.floor(cy - 2); y <= Math.ceil(cy + 2); y++)
      for (let x = Math.floor(cx - 2); x <= Math.ceil(cx + 2); x++) {
        if (x < 0 || y < 0 || x >= SIDE || y >= SIDE || !mask[y * SIDE + x]) continue;
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        image[y * SIDE + x] = Math.max(image[y * SIDE + x], Math.min(1, Math.max(0, 1.6 - d)));
      }
    render();
  };
  paintWhileDragging(ui.canvas, paint, () => !busy);
}

/** Wires the panel to the loaded digits. */
export function setUpClampPanel(trainDigits: Dataset, testDigits: Dataset): void {
  trainSet = trainDigits;
  testSet = testDigits;
  ui.labels.replaceChildren(
    ...Array.from({ length: 10 }, (_, d) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(d);
      button.dataset.digit = String(d);
      button.addEventListener("click", () => void generate(d));
      return button;
    }),
  );
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="pc-region"]'))
    input.addEventListener("change", () => {
      region = input.value === "left" ? "left" : "top";
      render();
    });
  ui.train.addEventListener("click", () => void train());
  ui.complete.addEventListener("click", () => void complete());
  ui.clear.addEventListener("click", () => {
    image.fill(0);
    render();
  });
  ui.sample.addEventListener("click", () => {
    const index = Math.floor(Math.random() * testSet.size);
    const mask = visible();
    for (let i = 0; i < PIXELS; i++) image[i] = mask[i] ? testSet.features[index * PIXELS + i] : 0;
    render();
  });
  setUpDrawing();
  showLabels(null);
  render();
  drawEnergy([]);
  ui.status.textContent = `press "Train PC graph" (${settings.pcEpochs} epoch${settings.pcEpochs === 1 ? "" : "s"} of PC on the training digits)`;
  setPanelState("untrained");
}

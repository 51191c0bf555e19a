// The drawing panel: a digit drawn with the mouse or a finger, preprocessed like MNIST, and
// the trained MLP's prediction with its ten class probabilities.
import { predict, tensor, type Graph } from "../src/index.js";
import { $ } from "./page.js";

/** What the panel needs of the model being trained. */
export interface Classifier { graph: Graph; epochsDone: number; steps: number; training: boolean }

let current: () => Classifier | null = () => null;

/** Which model to ask (the training panel's, once built). */
export function useClassifier(source: () => Classifier | null): void {
  current = source;
}

const ui = {
  draw: $<HTMLCanvasElement>("draw"),
  clear: $<HTMLButtonElement>("clear"),
  preview: $<HTMLCanvasElement>("input-preview"),
  prediction: $("prediction"),
  predictionNote: $("prediction-note"),
  probs: $("probs"),
};

const BRUSH = 22;
const drawCtx = ui.draw.getContext("2d", { willReadFrequently: true })!;
export let lastInput: Float32Array | null = null;

export function clearDrawing(): void {
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

export function classify(input: Float32Array): void {
  const model = current();
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
      (model.training ? " (training…)" : "");
  renderProbabilities(probabilities);
}

function readDrawing() {
  const input = toMnistInput(drawCtx.getImageData(0, 0, ui.draw.width, ui.draw.height));
  if (!input) return;
  showPreview(input);
  classify(input);
}

export function setUpDrawing(): void {
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

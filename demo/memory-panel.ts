// The associative-memory panel: store a few digits in several memories at once — three
// Universal Hopfield Networks (single-shot) and the generative PC memory (trained here until
// its energy is near zero) — pick one, damage it with the mouse (erase pixels, which become
// unknown entries of a mask, or add noise), and watch each memory recall it. The PC memory's
// recall is `PCMemory.recallSteps`: its relaxation drawn as it runs, with the energy.
import { modernHopfield, PCMemory, Random, UniversalHopfield, type Dataset } from "../src/index.js";
import { $, drawImage, yieldToBrowser } from "./page.js";
import { paintWhileDragging } from "./pointer-painting.js";
import { settings } from "./settings.js";

const SIDE = 28;
const PIXELS = SIDE * SIDE;

const ui = {
  store: $<HTMLButtonElement>("mem-store"),
  status: $("mem-status"),
  stored: $("mem-stored"),
  canvas: $<HTMLCanvasElement>("mem-canvas"),
  recall: $<HTMLButtonElement>("mem-recall"),
  eraseHalf: $<HTMLButtonElement>("mem-erase-half"),
  noiseAll: $<HTMLButtonElement>("mem-noise-all"),
  restore: $<HTMLButtonElement>("mem-restore"),
  results: $("mem-results"),
  pcCanvas: $<HTMLCanvasElement>("mem-pc"),
  energy: $<HTMLCanvasElement>("mem-energy"),
  step: $("mem-step"),
};

interface Method {
  label: string;
  memory: UniversalHopfield;
  canvas: HTMLCanvasElement;
  note: HTMLElement;
}

let trainSet: Dataset;
let stores = 0;
let patterns: Float32Array[] = [];
let selected = -1;
let uhns: Method[] = [];
let pc: PCMemory | null = null;
let busy = false;
/** The query: the selected digit as damaged so far, and which pixels are still known. */
const query = new Float32Array(PIXELS);
const known = new Float64Array(PIXELS).fill(1);
const random = new Random(settings.seed + 101);

function setPanelState(state: "empty" | "training" | "ready" | "recalling"): void {
  document.body.dataset.memState = state;
  const idle = state === "ready";
  ui.recall.disabled = !idle || selected < 0;
  ui.store.disabled = state === "training" || state === "recalling";
  for (const b of [ui.eraseHalf, ui.noiseAll, ui.restore]) b.disabled = !idle || selected < 0;
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < PIXELS; i++) s += (a[i] - b[i]) ** 2;
  return s / PIXELS;
};

/** The query canvas: the damaged digit, unknown (erased) pixels tinted. */
function renderQuery(): void {
  drawImage(ui.canvas, query);
  const ctx = ui.canvas.getContext("2d")!;
  const scale = ui.canvas.width / SIDE;
  ctx.fillStyle = "rgba(224, 122, 31, 0.35)";
  let unknown = 0;
  for (let i = 0; i < PIXELS; i++)
    if (known[i] === 0) {
      unknown++;
      ctx.fillRect((i % SIDE) * scale, Math.floor(i / SIDE) * scale, scale, scale);
    }
  ui.canvas.dataset.unknown = String(unknown);
  ui.canvas.dataset.mse = selected >= 0 ? String(mse(query, patterns[selected])) : "";
}

function select(index: number): void {
  selected = index;
  query.set(patterns[index]);
  known.fill(1);
  for (const [i, el] of [...ui.stored.children].entries()) el.classList.toggle("selected", i === index);
  renderQuery();
  if (!busy) setPanelState("ready");
}

function drawEnergy(energies: number[], total: number): void {
  const canvas = ui.energy;
  const ctx = canvas.getContext("2d")!;
  const w = canvas.width;
  const h = canvas.height;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#b8c0cc";
  ctx.strokeRect(36, 8, w - 44, h - 28);
  if (energies.length === 0) return;
  // Log scale: the energy falls by orders of magnitude as the memory settles.
  const logs = energies.map((e) => Math.log10(Math.max(e, 1e-8)));
  const hi = Math.max(...logs);
  const lo = Math.min(...logs);
  const x = (i: number) => 36 + (i / Math.max(total - 1, 1)) * (w - 44);
  const y = (v: number) => h - 20 - ((v - lo) / (hi - lo || 1)) * (h - 28);
  ctx.strokeStyle = "#2f6fde";
  ctx.lineWidth = 2;
  ctx.beginPath();
  logs.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
  ctx.stroke();
  ctx.fillStyle = "#667085";
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillText(`1e${hi.toFixed(1)}`, 2, 14);
  ctx.fillText(`1e${lo.toFixed(1)}`, 2, h - 20);
  ctx.fillText("inference step (all relaxations)", w / 2 - 70, h - 4);
}

function buildResults(): void {
  uhns = [
    { label: "MHN: dot, softmax β 1", memory: modernHopfield() },
    { label: "UHN: Manhattan, max", memory: new UniversalHopfield({ similarity: "manhattan", separation: "max" }) },
    { label: "UHN: Euclidean, softmax β 1000", memory: new UniversalHopfield({ similarity: "euclidean", separation: { kind: "softmax", beta: 1000 } }) },
  ].map(({ label, memory }, i) => {
    const cell = document.createElement("div");
    cell.className = "mem-result";
    const title = document.createElement("div");
    title.className = "label";
    title.textContent = label;
    const canvas = document.createElement("canvas");
    canvas.width = 112;
    canvas.height = 112;
    canvas.id = `mem-uhn-${i}`;
    const note = document.createElement("div");
    note.className = "muted";
    cell.append(title, canvas, note);
    ui.results.append(cell);
    return { label, memory, canvas, note };
  });
}

/** Draws `count` new digits from the training set and stores them in every memory; trains the PC memory. */
async function store(): Promise<void> {
  if (busy) return;
  busy = true;
  setPanelState("training");
  try {
    const draw = new Random(settings.seed * 7919 + ++stores);
    patterns = Array.from({ length: settings.memCount }, () => {
      const index = draw.int(trainSet.size);
      return trainSet.features.slice(index * PIXELS, (index + 1) * PIXELS);
    });
    ui.stored.replaceChildren(...patterns.map((p, i) => {
      const canvas = document.createElement("canvas");
      canvas.width = 56;
      canvas.height = 56;
      canvas.dataset.index = String(i);
      canvas.title = "recall this digit";
      drawImage(canvas, p);
      canvas.addEventListener("click", () => {
        if (!busy) select(i);
      });
      return canvas;
    }));
    for (const m of uhns) {
      m.memory.clear();
      m.memory.store(patterns);
    }
    pc?.dispose();
    pc = new PCMemory({ hiddenSizes: [settings.memHidden], seed: settings.seed, training: { epochs: settings.memEpochs } });
    pc.append(patterns);
    const started = performance.now();
    while (!pc.converged && pc.epochs < settings.memEpochs) {
      const result = pc.train(Math.min(10, settings.memEpochs - pc.epochs));
      ui.status.textContent = `training the PC memory on ${patterns.length} digits: epoch ${pc.epochs}, energy per pixel ${result.lossPerEntry.toExponential(2)}`;
      await yieldToBrowser();
    }
    const last = pc.history[pc.history.length - 1];
    ui.status.textContent = `stored ${patterns.length} digits in every memory; the PC memory (memory ${settings.memHidden} → hidden ${settings.memHidden} → 784, tanh, iPC) ` +
      `trained ${pc.epochs} epochs in ${((performance.now() - started) / 1000).toFixed(1)} s to energy per pixel ${last.lossPerEntry.toExponential(2)}. ` +
      "Pick a digit, damage it, press Recall.";
    ui.status.dataset.energy = String(last.lossPerEntry);
    busy = false;
    select(0);
  } catch (error) {
    busy = false;
    setPanelState("empty");
    ui.status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
    console.error(error);
  }
}

/** Every memory recalls the query: the UHNs at once, then the PC memory step by step. */
async function recall(): Promise<void> {
  if (busy || !pc || selected < 0) return;
  busy = true;
  setPanelState("recalling");
  const target = patterns[selected];
  const mask = known.includes(0) ? Array.from(known) : undefined;
  ui.pcCanvas.dataset.kind = mask ? "partial" : "corrupted";
  try {
    for (const m of uhns) {
      const out = m.memory.recall(query, mask);
      const values = out.dataSync();
      out.dispose();
      drawImage(m.canvas, values);
      const error = mse(values, target);
      m.canvas.dataset.mse = String(error);
      m.note.textContent = `MSE ${error.toFixed(4)}`;
    }
    const schedule = mask ? pc.settings.partial : pc.settings.corrupted;
    const total = schedule.iterations * (schedule.steps + 1);
    const stride = Math.max(1, Math.ceil(total / 150));
    const energies: number[] = [];
    let count = 0;
    const run = pc.recallSteps(query, mask);
    for (;;) {
      const next = await run.next();
      if (next.done) {
        const error = mse(next.value, target);
        drawImage(ui.pcCanvas, next.value);
        ui.pcCanvas.dataset.mse = String(error);
        break;
      }
      const step = next.value;
      energies.push(step.energy);
      if (count++ % stride !== 0) continue;
      drawImage(ui.pcCanvas, step.estimate());
      drawEnergy(energies, total);
      ui.step.textContent = `relaxation ${step.iteration} of ${step.iterations}, step ${step.step}: energy ${step.energy.toExponential(2)}`;
      Object.assign(ui.step.dataset, { iteration: String(step.iteration), step: String(step.step), events: String(count), firstEnergy: String(energies[0]), energy: String(step.energy) });
      await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
    }
    drawEnergy(energies, total);
    Object.assign(ui.step.dataset, { events: String(count), energy: String(energies[energies.length - 1]), done: "true" });
    ui.step.textContent = `${mask ? "completed the unknown pixels" : "iterated F (clamp, relax, predict)"}: ${count} steps, energy ` +
      `${energies[0].toExponential(2)} → ${energies[energies.length - 1].toExponential(2)}; MSE to the stored digit ${Number(ui.pcCanvas.dataset.mse).toFixed(4)}`;
  } catch (error) {
    ui.status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
    console.error(error);
  } finally {
    busy = false;
    setPanelState("ready");
  }
}

function damageAt(cx: number, cy: number, tool: "erase" | "noise"): void {
  for (let y = Math.floor(cy - 2); y <= Math.ceil(cy + 2); y++)
    for (let x = Math.floor(cx - 2); x <= Math.ceil(cx + 2); x++) {
      if (x < 0 || y < 0 || x >= SIDE || y >= SIDE || Math.hypot(x + 0.5 - cx, y + 0.5 - cy) > 2.2) continue;
      const i = y * SIDE + x;
      if (tool === "erase") {
        query[i] = 0;
        known[i] = 0;
      } else if (known[i] === 1) query[i] = patterns[selected][i] + 0.45 * random.normal();
    }
}

function setUpDamage(): void {
  const tool = () => (document.querySelector<HTMLInputElement>('input[name="mem-tool"]:checked')?.value === "noise" ? "noise" : "erase");
  const paint = (event: PointerEvent) => {
    const rect = ui.canvas.getBoundingClientRect();
    damageAt(((event.clientX - rect.left) / rect.width) * SIDE, ((event.clientY - rect.top) / rect.height) * SIDE, tool());
    renderQuery();
  };
  paintWhileDragging(ui.canvas, paint, () => !busy && selected >= 0);
}

/** Wires the panel to the loaded digits. */
export function setUpMemoryPanel(trainDigits: Dataset): void {
  trainSet = trainDigits;
  buildResults();
  setUpDamage();
  ui.store.addEventListener("click", () => void store());
  ui.recall.addEventListener("click", () => void recall());
  ui.eraseHalf.addEventListener("click", () => {
    for (let i = PIXELS / 2; i < PIXELS; i++) {
      query[i] = 0;
      known[i] = 0;
    }
    renderQuery();
  });
  ui.noiseAll.addEventListener("click", () => {
    for (let i = 0; i < PIXELS; i++) if (known[i] === 1) query[i] = patterns[selected][i] + Math.sqrt(0.2) * random.normal();
    renderQuery();
  });
  ui.restore.addEventListener("click", () => select(selected));
  renderQuery();
  drawEnergy([], 1);
  ui.status.textContent = `press "Store digits" to store ${settings.memCount} training digits in every memory`;
  setPanelState("empty");
}

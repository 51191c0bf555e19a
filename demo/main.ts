// The browser demo, one module per panel: training (training-panel.ts, with chart.ts), Z-IL
// vs BP (zil-panel.ts), drawing a digit (draw-panel.ts), clamp anything (clamp-panel.ts) and
// associative memories (memory-panel.ts).
// This file starts the page: the backend, the digits, and the wiring between panels.
import {
  backendInfo, backendNames, ready, setBackend, subset, threadsSupported, trainTestSplit, type BackendName,
} from "../src/index.js";
import { setUpClampPanel } from "./clamp-panel.js";
import { loadDigits } from "./data.js";
import { clearDrawing, setUpDrawing, useClassifier } from "./draw-panel.js";
import { setUpMemoryPanel } from "./memory-panel.js";
import { $, nf, setState, showError } from "./page.js";
import { algorithmLabel, settings } from "./settings.js";
import { buildModel, classifier, isTraining, redraw, requestStop, runTraining, useData } from "./training-panel.js";

async function main() {
  useClassifier(classifier);
  clearDrawing();
  redraw();
  setUpDrawing();
  $("check-every").textContent = String(settings.checkEvery);
  for (const el of document.querySelectorAll(".algo")) el.textContent = algorithmLabel;
  if (settings.algorithm !== "zil")
    $("algo-note").textContent = `(${algorithmLabel} only approximates backprop, so a visible difference is expected here; drop ?algorithm= for Z-IL.)`;

  if (settings.backend && !backendNames.includes(settings.backend))
    throw new Error(`?backend=${settings.backend}: expected one of ${backendNames.join(", ")}`);
  const threadOptions = settings.threads > 0 ? { threads: settings.threads } : undefined;
  if (settings.backend) {
    await ready(settings.backend, settings.backend === "wasm-simd-threads" ? threadOptions : undefined);
    setBackend(settings.backend);
  } else await ready(undefined, threadsSupported() ? threadOptions : undefined);
  const info = backendInfo();
  const backend = $("backend");
  const threads = info.name === "wasm-simd-threads" ? `, ${info.threads} thread${info.threads === 1 ? "" : "s"}` : "";
  backend.textContent = `${info.name} (${info.simd ? "SIMD" : info.dtype === "float64" ? "float64 reference" : "scalar"}, ${info.dtype}${threads})`;
  backend.dataset.name = info.name;
  // Threads need shared memory, which a browser gives only to a cross-origin isolated page.
  backend.title = `wasm SIMD supported by this browser: ${info.simdSupportedByRuntime ? "yes" : "no"}; ` +
    `shared-memory threads: ${info.threadsSupportedByRuntime ? "yes" : "no (the page is not cross-origin isolated: it needs the COOP and COEP headers)"}`;
  const others = (["wasm-simd-threads", "wasm-simd", "wasm-scalar"] as BackendName[]).filter((name) =>
    name !== info.name && (name !== "wasm-simd-threads" || info.threadsSupportedByRuntime) && (name === "wasm-scalar" || info.simdSupportedByRuntime));
  const backendSwitch = $("backend-switch");
  backendSwitch.replaceChildren(...others.map((other) => {
    const link = document.createElement("a");
    const query = new URLSearchParams(location.search);
    query.set("backend", other);
    link.href = `?${query}`;
    link.textContent = `switch to ${other}`;
    return link;
  }));
  if (!info.threadsSupportedByRuntime) backendSwitch.append(" (one thread: this page is not cross-origin isolated)");

  const status = $("status");
  status.textContent = "loading digits…";
  const all = await loadDigits("mnist.bin");
  const split = trainTestSplit(all, settings.testFraction, settings.seed);
  const train = settings.trainLimit > 0 && settings.trainLimit < split.train.size
    ? subset(split.train, Array.from({ length: settings.trainLimit }, (_, i) => i), "mnist[train]")
    : split.train;
  const test = split.test;
  useData(train, test);
  $("dataset").textContent = `${nf.format(all.size)} bundled MNIST digits: ${nf.format(train.size)} train / ${nf.format(test.size)} test (seed ${settings.seed})`;

  buildModel();
  const trainButton = $<HTMLButtonElement>("train");
  const resetButton = $<HTMLButtonElement>("reset");
  trainButton.disabled = false;
  resetButton.disabled = false;
  status.textContent = `ready: press Train for ${settings.epochs} epoch${settings.epochs === 1 ? "" : "s"} of ${algorithmLabel}`;
  setUpClampPanel(split.train, test);
  setUpMemoryPanel(split.train);
  setState("ready");

  trainButton.addEventListener("click", () => {
    if (isTraining()) requestStop();
    else void runTraining();
  });
  resetButton.addEventListener("click", () => {
    if (isTraining()) return;
    buildModel();
    status.textContent = "weights re-initialised";
  });
}

main().catch(showError);

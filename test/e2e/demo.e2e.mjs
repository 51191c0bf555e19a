// End-to-end test of the browser demo: builds build/demo, serves it on a free port, and
// drives headless Chromium through what a person would do: press Train, watch the first
// epoch, read the Z-IL vs BP panel, draw a "1" and a "0"; then train the clamp-anything PC
// graph, draw the top half of a digit and watch it complete step by step, and click a
// label and watch a digit appear; then store digits in the associative memories, erase half
// of one and add noise to it with the mouse, and watch each memory recall it (the PC memory
// step by step). Checks what the page shows.
// Writes test-results/demo.png and test-results/demo.json; exits non-zero on a failure.
//
//   node test/e2e/demo.e2e.mjs        (npm run test:demo)
//   CHROMIUM=/path/to/chrome to use another browser binary.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { buildDemo } from "../../scripts/build-demo.mjs";
import { serve } from "../../scripts/serve.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const resultsDir = join(root, "test-results");
const started = performance.now();
const results = [];

function check(name, ok, detail = "") {
  results.push({ name, ok: Boolean(ok), detail });
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Presses the mouse at the first point, moves through the rest, releases. */
async function stroke(page, box, points) {
  const at = ([x, y]) => [box.x + x, box.y + y];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 2 });
  await page.mouse.up();
}

async function readPrediction(page) {
  return page.evaluate(() => {
    const el = document.getElementById("prediction");
    const rows = [...document.querySelectorAll("#probs .row")];
    return {
      text: el.textContent.trim(),
      probabilities: rows.map((r) => r.querySelector(".pct").textContent.trim()),
    };
  });
}

let browser;
let server;
try {
  mkdirSync(resultsDir, { recursive: true });
  const outDir = await buildDemo({ quiet: true });
  check("demo builds (build/demo: index.html, main.js, mnist.bin)", true, outDir);
  server = await serve(outDir, { port: 0 });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (msg) => msg.type() === "error" && problems.push(`console error: ${msg.text()}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));

  // One short epoch: the 8,000 training digits of the default split, batch 64.
  await page.goto(`${server.url}?epochs=1&train=8000&batch=64`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 30_000 });
  const backend = (await page.textContent("#backend")).trim();
  check("backend shown on the page", /^wasm-(simd|scalar)(-threads)? \((SIMD|scalar)/.test(backend), backend);
  check("the demo server makes the page cross-origin isolated", await page.evaluate(() => globalThis.crossOriginIsolated === true));
  check("Chromium gets the threaded SIMD build by default, and the page says how many threads",
    /^wasm-simd-threads \(SIMD, float32, \d+ threads?\)$/.test(backend), backend);
  const dataset = (await page.textContent("#dataset")).trim();
  check("digits loaded and split", /10,000 bundled MNIST digits: 8,000 train \/ 2,000 test/.test(dataset), dataset);

  // A drawing made before training is classified again as training goes and once it ends.
  const early = await page.locator("#draw").boundingBox();
  await stroke(page, early, Array.from({ length: 17 }, (_, i) => [142 - i * 0.6, 45 + i * 12]));
  const trainStarted = performance.now();
  await page.click("#train");
  await page.waitForFunction(() => Number(document.body.dataset.epochsDone) >= 1 || document.body.dataset.state === "error", null, { timeout: 90_000 });
  await page.waitForFunction(() => document.body.dataset.state !== "training", null, { timeout: 30_000 });
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  const note = (await page.textContent("#prediction-note")).trim();
  check("after training the prediction note no longer says training", /after 1 epoch$/.test(note), note);

  const status = (await page.textContent("#status")).trim();
  check("status line reports the finished epoch with samples/s", /^epoch 1 done in [\d.]+ s · [\d,]+ samples\/s/.test(status), status);

  // The chart: its own count of points, and blue (loss) and orange (accuracy) pixels drawn.
  const chart = await page.evaluate(() => {
    const canvas = document.getElementById("chart");
    const ctx = canvas.getContext("2d");
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let loss = 0;
    let acc = 0;
    const near = (i, [r, g, b]) => Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40;
    for (let i = 0; i < data.length; i += 4) {
      if (near(i, [0x2f, 0x6f, 0xde])) loss++;
      else if (near(i, [0xe0, 0x7a, 0x1f])) acc++;
    }
    return { points: Number(canvas.dataset.points), lossPoints: Number(canvas.dataset.lossPoints), epochPoints: Number(canvas.dataset.epochPoints), loss, acc };
  });
  check("chart has drawn points (loss line and test-accuracy marker)",
    chart.lossPoints >= 1 && chart.epochPoints >= 1 && chart.loss > 200 && chart.acc > 50,
    `${chart.lossPoints} loss points, ${chart.epochPoints} accuracy points; ${chart.loss} loss-coloured and ${chart.acc} accuracy-coloured pixels`);

  const accuracyText = (await page.textContent("#test-accuracy")).trim();
  const accuracy = Number.parseFloat(accuracyText);
  check("test accuracy after epoch 1 >= 85%", accuracy >= 85, accuracyText);

  // Columns: parameter (name and shape), max |Z-IL - BP|, relative, max |BP|.
  const rows = await page.$$eval("#zil-vs-bp tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  const expected = { "dense1.weight": "784×256", "dense1.bias": "256", "dense2.weight": "256×10", "dense2.bias": "10" };
  const shown = rows.map((r) => r[0]);
  check("Z-IL vs BP panel lists every parameter",
    rows.length === 4 && Object.entries(expected).every(([name, shape]) => shown.includes(`${name} ${shape}`)), shown.join(", "));
  const relative = rows.map((r) => Number(r[2]));
  check("Z-IL vs BP: every relative difference shown <= 1e-4", rows.length > 0 && relative.every((x) => Number.isFinite(x) && x <= 1e-4),
    rows.map((r) => `${r[0]}: ${r[2]}`).join(", "));
  const info = (await page.textContent("#zil-check-info")).trim();
  check("Z-IL vs BP check ran during the epoch", /checked at step \d+ \(epoch 1, batch \d+\)/.test(info) && !/at step 1 \(/.test(info), info);
  console.log(`     ${(await page.textContent("#zil-verdict")).trim()}`);

  // Draw a "1" (a vertical stroke) and a "0" (an ellipse) on the 280x280 canvas.
  const box = await page.locator("#draw").boundingBox();
  await page.click("#clear");
  await stroke(page, box, Array.from({ length: 17 }, (_, i) => [142 - i * 0.6, 45 + i * 12]));
  const one = await readPrediction(page);
  check("drawn vertical stroke: prediction shows a digit", /^\d$/.test(one.text), `${one.text} (${one.probabilities.join(" ")})`);
  await page.screenshot({ path: join(resultsDir, "demo-one.png"), fullPage: true });

  await page.click("#clear");
  const cleared = (await page.textContent("#prediction")).trim();
  check("Clear resets the prediction", cleared === "–", cleared);
  const ellipse = Array.from({ length: 41 }, (_, i) => {
    const t = (i / 40) * 2 * Math.PI;
    return [140 + 62 * Math.sin(t), 140 - 92 * Math.cos(t)];
  });
  await stroke(page, box, ellipse);
  const zero = await readPrediction(page);
  check("drawn ellipse: prediction shows a digit", /^\d$/.test(zero.text), `${zero.text} (${zero.probabilities.join(" ")})`);
  check("the two drawings get different predictions", one.text !== zero.text, `stroke -> ${one.text}, ellipse -> ${zero.text}`);
  check("vertical stroke read as 1, ellipse as 0", one.text === "1" && zero.text === "0", `stroke -> ${one.text}, ellipse -> ${zero.text}`);
  const bars = zero.probabilities.map((p) => Number.parseFloat(p));
  const sum = bars.reduce((a, b) => a + b, 0);
  check("10 probability bars summing to 100%", bars.length === 10 && Math.abs(sum - 100) < 1, `sum ${sum.toFixed(1)}%`);
  await page.screenshot({ path: join(resultsDir, "demo.png"), fullPage: true });

  // Clamp anything: a small PC graph trained in the page, then two queries watched step by step.
  const pc = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  pc.on("pageerror", (error) => problems.push(`page error (clamp panel): ${error.message}`));
  pc.on("console", (msg) => msg.type() === "error" && problems.push(`console error (clamp panel): ${msg.text()}`));
  await pc.goto(`${server.url}?pcepochs=1&pctrain=8000&pcsteps=120`);
  await pc.waitForFunction(() => document.body.dataset.pcState === "untrained", null, { timeout: 30_000 });
  check("clamp panel: Complete and the label buttons wait for training",
    await pc.evaluate(() => document.getElementById("pc-complete").disabled && [...document.querySelectorAll("#pc-labels button")].every((b) => b.disabled)));
  await pc.click("#pc-train");
  await pc.waitForFunction(() => document.body.dataset.pcState === "ready", null, { timeout: 120_000 });
  const pcStatus = (await pc.textContent("#pc-status")).trim();
  const pcAccuracy = Number(await pc.evaluate(() => document.getElementById("pc-status").dataset.accuracy));
  check("clamp panel: the PC graph trains and classifies by relaxation well above chance (> 40%)", pcAccuracy > 0.4, pcStatus);
  const pcBox = await pc.locator("#pc-canvas").boundingBox();
  // Draw the top half of a "0": an arc over the upper half of the canvas, plus one stroke into the free half (ignored).
  const arc = Array.from({ length: 21 }, (_, i) => {
    const t = Math.PI * (-0.5 + i / 20);
    return [140 + 60 * Math.sin(t), 140 - 95 * Math.cos(t)];
  });
  await stroke(pc, pcBox, arc);
  await stroke(pc, pcBox, [[140, 200], [140, 260]]);
  const before = Number(await pc.evaluate(() => document.getElementById("pc-canvas").dataset.freeInk));
  check("clamp panel: drawing touches only the clamped half", before === 0, `ink in the free half before completing: ${before}`);
  await pc.click("#pc-complete");
  await pc.waitForFunction(() => document.body.dataset.pcState === "relaxing", null, { timeout: 10_000 });
  const midway = Number(await pc.evaluate(() => document.getElementById("pc-step").dataset.step));
  await pc.waitForFunction(() => document.body.dataset.pcState === "ready", null, { timeout: 60_000 });
  const completion = await pc.evaluate(() => {
    const step = document.getElementById("pc-step").dataset;
    return { step: Number(step.step), first: Number(step.firstEnergy), last: Number(step.energy), ink: Number(document.getElementById("pc-canvas").dataset.freeInk), query: document.getElementById("pc-canvas").dataset.query };
  });
  check("clamp panel: completion is shown step by step (the page updated mid-relaxation)", midway < 120 && completion.step === 120, `seen at step ${midway}, ended at ${completion.step}`);
  check("clamp panel: completion fills the free half and lowers the energy",
    completion.query === "complete" && completion.ink > 1 && completion.last < completion.first,
    `ink ${completion.ink.toFixed(2)} in the free half; energy ${completion.first.toFixed(3)} -> ${completion.last.toFixed(3)}`);
  await pc.click("#pc-clear");
  await pc.click('#pc-labels button[data-digit="3"]');
  await pc.waitForFunction(() => document.getElementById("pc-canvas").dataset.query === "generate:3" && document.body.dataset.pcState === "ready",
    null, { timeout: 60_000 }).catch(async (error) => {
    throw new Error(`${error.message}; panel state ${await pc.evaluate(() => document.body.dataset.pcState)}, status "${(await pc.textContent("#pc-status")).trim()}"`);
  });
  const generated = await pc.evaluate(() => {
    const canvas = document.getElementById("pc-canvas");
    const ctx = canvas.getContext("2d");
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let peak = 0;
    for (let i = 0; i < data.length; i += 4) peak = Math.max(peak, data[i]);
    let bright = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] > peak / 2) bright++;
    const step = document.getElementById("pc-step").dataset;
    return { query: canvas.dataset.query, step: Number(step.step), bright, total: data.length / 4, peak, first: Number(step.firstEnergy), last: Number(step.energy) };
  });
  check("clamp panel: clicking a label generates a digit (bright strokes on a dark field)",
    generated.query === "generate:3" && generated.step === 120 && generated.peak > 80 && generated.bright > 0.03 * generated.total &&
    generated.bright < 0.5 * generated.total && generated.last < 0.2 * generated.first,
    `${generated.query}, ${generated.step} steps, brightest pixel ${generated.peak}, ${generated.bright} of ${generated.total} pixels above half of it; ` +
    `energy ${generated.first.toFixed(3)} -> ${generated.last.toFixed(3)}`);
  await pc.screenshot({ path: join(resultsDir, "demo-clamp.png"), fullPage: true });
  await pc.close();

  // Associative memories: store six digits, damage one with the mouse, recall it.
  const mem = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  mem.on("pageerror", (error) => problems.push(`page error (memory panel): ${error.message}`));
  mem.on("console", (msg) => msg.type() === "error" && problems.push(`console error (memory panel): ${msg.text()}`));
  await mem.goto(`${server.url}?memcount=6&memhidden=96&memepochs=600`);
  await mem.waitForFunction(() => document.body.dataset.memState === "empty", null, { timeout: 30_000 });
  check("memory panel: Recall waits for stored digits", await mem.evaluate(() => document.getElementById("mem-recall").disabled));
  await mem.click("#mem-store");
  await mem.waitForFunction(() => document.body.dataset.memState === "ready", null, { timeout: 120_000 });
  const memStatus = (await mem.textContent("#mem-status")).trim();
  const trainedEnergy = Number(await mem.evaluate(() => document.getElementById("mem-status").dataset.energy));
  check("memory panel: six digits stored; the PC memory trains to near-zero energy (< 1e-5 per pixel)",
    (await mem.$$eval("#mem-stored canvas", (c) => c.length)) === 6 && trainedEnergy < 1e-5, memStatus);
  const memBox = await mem.locator("#mem-canvas").boundingBox();
  // Erase the bottom half with horizontal strokes of the eraser.
  for (let y = 116; y <= 222; y += 8) await stroke(mem, memBox, Array.from({ length: 23 }, (_, k) => [2 + 10 * k, y]));
  const erased = await mem.evaluate(() => ({ unknown: Number(document.getElementById("mem-canvas").dataset.unknown), mse: Number(document.getElementById("mem-canvas").dataset.mse) }));
  check("memory panel: the eraser marks pixels unknown", erased.unknown >= 330, `${erased.unknown} unknown pixels; query MSE ${erased.mse.toFixed(4)}`);
  const readRecall = () => mem.evaluate(() => {
    const step = document.getElementById("mem-step").dataset;
    return {
      kind: document.getElementById("mem-pc").dataset.kind, pc: Number(document.getElementById("mem-pc").dataset.mse),
      uhn: [0, 1, 2].map((i) => Number(document.getElementById(`mem-uhn-${i}`).dataset.mse)),
      events: Number(step.events), first: Number(step.firstEnergy), last: Number(step.energy), done: step.done,
    };
  });
  await mem.click("#mem-recall");
  await mem.waitForFunction(() => document.body.dataset.memState === "recalling", null, { timeout: 10_000 });
  await mem.waitForFunction(() => Number(document.getElementById("mem-step").dataset.events) > 0, null, { timeout: 30_000 });
  const memMidway = Number(await mem.evaluate(() => document.getElementById("mem-step").dataset.events));
  await mem.waitForFunction(() => document.body.dataset.memState === "ready", null, { timeout: 120_000 });
  const partial = await readRecall();
  check("memory panel: the PC memory's completion is drawn step by step", partial.kind === "partial" && memMidway < partial.events,
    `seen after ${memMidway} of ${partial.events} steps`);
  check("memory panel: from its top half the PC memory recalls the digit (MSE < 0.001) and lowers its energy",
    partial.pc < 0.001 && partial.last < partial.first, `PC MSE ${partial.pc.toFixed(5)}; energy ${partial.first.toExponential(2)} -> ${partial.last.toExponential(2)}`);
  check("memory panel: the Hopfield networks answer too (Manhattan/max over the known pixels recalls it exactly)",
    partial.uhn.every(Number.isFinite) && partial.uhn[1] < 1e-6, `MSE ${partial.uhn.map((e) => e.toFixed(4)).join(", ")}`);
  // Undo, then scribble noise over the digit with the noise brush.
  await mem.click("#mem-restore");
  await mem.check('input[name="mem-tool"][value="noise"]');
  for (let y = 40; y <= 190; y += 10) await stroke(mem, memBox, [[30, y], [112, y + 5], [194, y]]);
  const noisy = await mem.evaluate(() => ({ unknown: Number(document.getElementById("mem-canvas").dataset.unknown), mse: Number(document.getElementById("mem-canvas").dataset.mse) }));
  await mem.click("#mem-recall");
  await mem.waitForFunction(() => document.body.dataset.memState === "recalling", null, { timeout: 10_000 });
  await mem.waitForFunction(() => document.body.dataset.memState === "ready", null, { timeout: 120_000 });
  const corrupted = await readRecall();
  check("memory panel: the noise brush keeps pixels known; the PC memory iterates F from the noisy digit and lowers its energy",
    noisy.unknown === 0 && noisy.mse > 0.01 && corrupted.kind === "corrupted" && corrupted.last < corrupted.first && corrupted.pc < noisy.mse,
    `query MSE ${noisy.mse.toFixed(4)} -> PC recall MSE ${corrupted.pc.toFixed(4)}; energy ${corrupted.first.toExponential(2)} -> ${corrupted.last.toExponential(2)}`);
  await mem.screenshot({ path: join(resultsDir, "demo-memory.png"), fullPage: true });
  await mem.close();

  check("no page errors, console errors or failed requests", problems.length === 0, problems.join("; "));

  // ?backend=wasm-scalar forces the scalar build, which trains to the same result.
  const scalar = await browser.newPage();
  await scalar.goto(`${server.url}?backend=wasm-scalar&epochs=1`);
  await scalar.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 30_000 });
  const scalarBackend = (await scalar.textContent("#backend")).trim();
  check("?backend=wasm-scalar forces the scalar build", scalarBackend.startsWith("wasm-scalar (scalar"), scalarBackend);
  await scalar.click("#train");
  await scalar.waitForFunction(() => Number(document.body.dataset.epochsDone) >= 1 || document.body.dataset.state === "error", null, { timeout: 90_000 });
  const scalarAccuracy = (await scalar.textContent("#test-accuracy")).trim();
  const scalarRows = await scalar.$$eval("#zil-vs-bp tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  check("scalar build: epoch 1 reaches >= 85% with Z-IL = BP (<= 1e-4)",
    Number.parseFloat(scalarAccuracy) >= 85 && scalarRows.length === 4 && scalarRows.every((r) => Number(r[2]) <= 1e-4),
    `${scalarAccuracy}; ${scalarRows.map((r) => r[2]).join(", ")}; ${(await scalar.textContent("#status")).trim()}`);
  await scalar.close();

  // Served without COOP/COEP the page is not cross-origin isolated: one thread, and it says so.
  const plainServer = await serve(outDir, { port: 0, isolation: false });
  try {
    const plain = await browser.newPage();
    await plain.goto(`${plainServer.url}?epochs=1`);
    await plain.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 30_000 });
    const plainBackend = (await plain.textContent("#backend")).trim();
    const plainNote = (await plain.textContent("#backend-switch")).trim();
    check("without isolation the demo falls back to wasm-simd and says why",
      plainBackend.startsWith("wasm-simd (SIMD") && plainNote.includes("not cross-origin isolated"), `${plainBackend}; ${plainNote}`);
    await plain.close();
  } finally {
    await plainServer.close();
  }

  // Negative control: trained with plain IL the same panel must flag a difference, so the
  // zeros above are a measurement, not a panel that cannot show anything else.
  const il = await browser.newPage();
  await il.goto(`${server.url}?algorithm=il&epochs=1`);
  await il.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 30_000 });
  await il.click("#train");
  await il.waitForFunction(() => document.querySelectorAll("#zil-vs-bp tbody tr").length > 0 || document.body.dataset.state === "error", null, { timeout: 30_000 });
  if ((await il.evaluate(() => document.body.dataset.state)) === "training") await il.click("#train"); // Stop
  const ilRows = await il.$$eval("#zil-vs-bp tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  const ilVerdict = (await il.textContent("#zil-verdict")).trim();
  check("negative control: with ?algorithm=il the panel shows IL differing from BP (> 1e-4)",
    ilRows.length === 4 && ilRows.some((r) => Number(r[2]) > 1e-4) && /IL and BP disagree/.test(ilVerdict),
    `${ilRows.map((r) => `${r[0]}: ${r[2]}`).join(", ")}; "${ilVerdict}"`);
  await il.close();
  console.log(`     training epoch 1 took ${trainSeconds.toFixed(1)} s in the page (click to evaluated)`);
} catch (error) {
  check("run completed", false, error instanceof Error ? error.stack ?? error.message : String(error));
} finally {
  await withTimeout(browser?.close() ?? Promise.resolve(), 15_000, "closing the browser").catch((e) => check("browser closed", false, e.message));
  await server?.close();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, "demo.json"), JSON.stringify({ runtime: "demo", passed, failed }) + "\n");
console.log(`     ${((performance.now() - started) / 1000).toFixed(1)} s; screenshot test-results/demo.png`);
console.log(`demo: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

import { createBackend } from "../src/backend/load.js";
import { GraphBuilder, type NodeRef } from "../src/graph/builder.js";
import { randomBatch } from "../src/pc/random-graph.js";
import { gradientEngine } from "../src/train/gradients.js";
import { WasmBackend } from "../src/backend/wasm.js";
const threads = Number(process.argv[2] ?? 1);
const b = createBackend("wasm-simd-threads", { threads }) as any; if (threads > 1) await b.whenStarted();
function mlp(backend: any, depth: number) { const g = new GraphBuilder(); let x: NodeRef = g.input([784], "x"); for (let i = 0; i < depth - 1; i++) x = g.relu(g.dense(x, 256)); return g.build({ output: g.dense(x, 10), loss: "softmaxCrossEntropy", seed: 1, backend }); }
const g = mlp(b, 16); const batch = randomBatch(g, 64, 7);
function profile(fn: () => void, repeats = 100) {
  const acc: Record<string, [number, number]> = {}; const names: string[] = [];
  for (const name of Object.getOwnPropertyNames(WasmBackend.prototype)) {
    if (name === "constructor" || typeof b[name] !== "function" || ["view"].includes(name)) continue;
    const orig = b[name];
    b[name] = (...a: any[]) => { const t0 = performance.now(); const r = orig.apply(b, a); const e = (acc[name] ??= [0, 0]); e[0] += performance.now() - t0; e[1]++; return r; };
    names.push(name);
  }
  for (let i = 0; i < 10; i++) fn();
  for (const k of Object.keys(acc)) delete acc[k];
  const t0 = performance.now(); for (let i = 0; i < repeats; i++) fn(); const total = (performance.now() - t0) / repeats;
  for (const n of names) delete b[n];
  const kern = Object.values(acc).reduce((s, [t]) => s + t, 0) / repeats;
  return { totalMs: +total.toFixed(3), kernelMs: +kern.toFixed(3), by: Object.fromEntries(Object.entries(acc).sort((x, y) => y[1][0] - x[1][0]).map(([k, [t, n]]) => [k, `${(t / repeats * 1e3).toFixed(0)}us/${n / repeats}`])) };
}
for (const alg of ["bp", "zil"] as const) {
  const e = gradientEngine(g, alg, {});
  console.log(alg, JSON.stringify(profile(() => e.run(batch))));
}
if (threads > 1) b.dispose();

import { threadBackends } from "./kernels/matmul.js";
const [one, two] = await threadBackends();
const N = 1 << 20;
const data = new Float32Array(N).map((_, i) => Math.sin(i * 0.37) * 4);
const x1 = one.alloc(N), o1 = one.alloc(N), d1 = one.alloc(N); one.write(x1, data); one.write(d1, data);
const x = two.alloc(N), o = two.alloc(N), d = two.alloc(N); two.write(x, data); two.write(d, data);
const time = (f: () => void) => { for (let i = 0; i < 30; i++) f(); const ts = []; for (let r = 0; r < 7; r++) { const t0 = performance.now(); for (let i = 0; i < 20; i++) f(); ts.push((performance.now() - t0) / 20); } ts.sort((a, b) => a - b); return ts[3].toFixed(3); };
for (const op of ["gelu", "tanhGrad", "sigmoid", "exp", "tanh"]) {
  const call = (b: any, xx: number, dd: number, oo: number) => op === "tanhGrad" ? b.tanhGrad(N, xx, dd, oo) : b[op](N, xx, oo);
  two.setCallerTakesBlocks(true);
  const split = time(() => call(two, x, d, o));
  two.setCallerTakesBlocks(false);
  const workerOnly = time(() => call(two, x, d, o));
  two.setCallerTakesBlocks(true);
  console.log(op, "one", time(() => call(one, x1, d1, o1)), "two split", split, "worker does all", workerOnly);
}
two.dispose();

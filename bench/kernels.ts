// npm run bench:kernels — every kernel family beside TF.js's wasm backend (one thread) in
// this process, as GFLOP/s (or Melem/s) with the ratio pcgraph / TF.js and the fraction of
// the machine's measured peak (a register-blocked f32x4 mul+add micro-kernel).
import { measurePeakGflops, measureStreamBytesPerSecond } from "./kernels/peak.js";
import { benchMatmul } from "./kernels/matmul.js";
import { benchConv } from "./kernels/conv.js";
import { benchElementwise } from "./kernels/elementwise.js";
import { benchMemory } from "./kernels/memory.js";
import { printTable } from "./report.js";

const only = process.argv[2];
const peak = await measurePeakGflops();
console.log(`measured peak of the f32x4 mul+add micro-kernel: ${peak.toFixed(1)} GFLOP/s`);
if (!only || only === "matmul") printTable("matmul (GFLOP/s)", await benchMatmul(peak));
if (!only || only === "conv") printTable("conv2d and pooling, batch 32, NCHW (GFLOP/s)", await benchConv(peak));
if (!only || only === "elementwise") {
  const stream = await measureStreamBytesPerSecond(1 << 20);
  console.log(`\nmeasured streaming bandwidth (load + store over 4 MB): ${(stream / 1e9).toFixed(1)} GB/s; "of peak" below is the kernel's compulsory traffic over it`);
  printTable("elementwise on 1M floats (Melem/s)", await benchElementwise(stream));
}
if (!only || only === "memory") await benchMemory();

// npm run bench:kernels [matmul|conv|elementwise|memory] [targets] — every kernel family beside
// TF.js's wasm backend in this process, on pcgraph's threaded backend with 1 and with 2
// threads, in interleaved rounds, with the host's measured ceilings (one and two threads) and
// its load printed beside every table. `matmul targets` runs only the shapes the threading
// targets name.
import { measurePeaks, peakLine } from "./kernels/peak.js";
import { benchMatmul, matmulCases } from "./kernels/matmul.js";
import { benchConv } from "./kernels/conv.js";
import { benchElementwise } from "./kernels/elementwise.js";
import { benchMemory } from "./kernels/memory.js";
import { peerDescription } from "./peer.js";
import { hostLine } from "./report.js";

const only = process.argv[2];
console.log(`pcgraph kernel benchmarks; peer: ${await peerDescription()}`);
console.log(`host: ${hostLine()}`);
const peaks = await measurePeaks();
console.log(peakLine(peaks));
// "targets": only the shapes the threading targets name (512³ and the matmuls of the 784 -> 256 layer).
const matmulShapes = process.argv[3] === "targets" ? matmulCases([512]) : matmulCases();
if (!only || only === "matmul") await benchMatmul(peaks, matmulShapes);
if (!only || only === "conv") await benchConv(peaks);
if (!only || only === "elementwise") await benchElementwise(peaks);
if (!only || only === "memory") await benchMemory();

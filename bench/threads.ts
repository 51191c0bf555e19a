// npm run bench:threads — where sharing a kernel between threads starts to pay: each kernel
// family at growing sizes on one thread and split over two (threshold 0, so even the smallest
// call is split), in interleaved rounds. For each family it prints the speed-up by the
// estimated single-thread time of the call (src/backend/threads/split.ts's cost model), and
// the smallest estimate from which two threads win by at least 10% at every larger size: the
// measurement behind DEFAULT_PARALLEL_THRESHOLD_NS. The last table checks the cost model
// itself: measured single-thread nanoseconds per unit beside the model's.
import type { Backend } from "../src/backend/kernels.js";
import { createBackend } from "../src/backend/load.js";
import type { ThreadedBackend } from "../src/backend/threaded.js";
import { DEFAULT_PARALLEL_THRESHOLD_NS, NS_PER_UNIT } from "../src/backend/threads/split.js";
import { randomFloats } from "./kernels/matmul.js";
import { beginTable, endTable, markdownTable, medianRatio, timeInterleaved } from "./report.js";

interface Family {
  name: string;
  /** Unit of the cost model and its estimated ns per unit. */
  nsPerUnit: number;
  sizes: number[];
  /** Units of work of a call at `size`, and a call on `backend` (inputs made once). */
  units(size: number): number;
  make(backend: Backend, size: number): { run: () => void; free: () => void };
}

function buffers(backend: Backend, lengths: number[]) {
  const at = lengths.map((length, i) => {
    const address = backend.alloc(length);
    backend.write(address, randomFloats(length, i + 1));
    return address;
  });
  return { at, free: () => at.forEach((a) => backend.free(a)) };
}

const families: Family[] = [
  {
    name: "matmul n x n x n", nsPerUnit: NS_PER_UNIT.flop, sizes: [16, 24, 32, 48, 64, 96, 128, 192, 256],
    units: (n) => 2 * n * n * n,
    make: (b, n) => {
      const { at: [x, y, z], free } = buffers(b, [n * n, n * n, n * n]);
      return { run: () => b.matmul(false, false, n, n, n, 1, x, y, 0, z), free };
    },
  },
  {
    name: "matmul 64 x n x 256 (a dense layer at batch 64)", nsPerUnit: NS_PER_UNIT.flop, sizes: [8, 16, 32, 64, 128, 256],
    units: (n) => 2 * 64 * n * 256,
    make: (b, n) => {
      const { at: [x, y, z], free } = buffers(b, [64 * 256, 256 * n, 64 * n]);
      return { run: () => b.matmul(false, false, 64, n, 256, 1, x, y, 0, z), free };
    },
  },
  {
    name: "add (stream)", nsPerUnit: NS_PER_UNIT.stream, sizes: [4096, 16384, 32768, 65536, 131072, 262144, 1 << 20],
    units: (n) => n,
    make: (b, n) => {
      const { at: [x, y, z], free } = buffers(b, [n, n, n]);
      return { run: () => b.add(n, x, y, z), free };
    },
  },
  {
    name: "tanh (transcendental)", nsPerUnit: NS_PER_UNIT.transcendental, sizes: [1024, 4096, 8192, 16384, 32768, 65536, 262144],
    units: (n) => n,
    make: (b, n) => {
      const { at: [x, y], free } = buffers(b, [n, n]);
      return { run: () => b.tanh(n, x, y), free };
    },
  },
  {
    name: "softmax rows of 10 (transcendental)", nsPerUnit: NS_PER_UNIT.transcendental, sizes: [64, 256, 1024, 4096, 16384],
    units: (rows) => rows * 10,
    make: (b, rows) => {
      const { at: [x, y], free } = buffers(b, [rows * 10, rows * 10]);
      return { run: () => b.softmaxRows(rows, 10, x, y), free };
    },
  },
];

const one = createBackend("wasm-simd-threads", { threads: 1 }) as ThreadedBackend;
const two = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
await two.whenStarted();
if (two.threadInfo().readyWorkers !== 1) throw new Error("the 2-thread backend has no worker");

const crossovers: string[][] = [];
const model: string[][] = [];
for (const family of families) {
  beginTable(`${family.name}: one thread against two, every call split (median of interleaved rounds)`);
  const rows: string[][] = [];
  const results: { estimate: number; speedup: number }[] = [];
  for (const size of family.sizes) {
    const a = family.make(one, size);
    const b = family.make(two, size);
    const t = timeInterleaved({ one: a.run, two: b.run }, { rounds: 9, roundMs: 20 });
    a.free();
    b.free();
    const estimate = family.units(size) * family.nsPerUnit;
    const speedup = medianRatio(t.one, t.two);
    results.push({ estimate, speedup });
    rows.push([String(size), (estimate / 1000).toFixed(1), (t.one.seconds * 1e6).toFixed(1), (t.two.seconds * 1e6).toFixed(1), `${speedup.toFixed(2)}x`]);
    model.push([`${family.name}, ${size}`, ((t.one.seconds * 1e9) / family.units(size)).toFixed(3), family.nsPerUnit.toFixed(3)]);
  }
  markdownTable(["size", "estimated µs (1 thread)", "1 thread µs", "2 threads µs", "2 threads / 1"], rows);
  endTable();
  // The smallest estimate from which every larger size gains at least 10%.
  let crossover = Infinity;
  for (let i = results.length - 1; i >= 0 && results[i].speedup >= 1.1; i--) crossover = results[i].estimate;
  crossovers.push([family.name, Number.isFinite(crossover) ? (crossover / 1000).toFixed(1) : "none in range"]);
}

beginTable("where two threads start to pay (estimated single-thread µs from which every larger call gains >= 10%)");
markdownTable(["family", "crossover µs"], crossovers);
console.log(`DEFAULT_PARALLEL_THRESHOLD_NS in src/backend/threads/split.ts: ${DEFAULT_PARALLEL_THRESHOLD_NS / 1000} µs`);
endTable();
beginTable("the cost model: measured single-thread ns per unit beside the model's");
markdownTable(["call", "measured ns / unit", "model ns / unit"], model);
endTable();
two.dispose();

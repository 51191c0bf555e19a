import { threadBackends } from "./kernels/matmul.js";
const [one, two] = await threadBackends();
const N = 1 << 20;
const data = new Float32Array(N).map((_, i) => Math.sin(i * 0.37) * 4);
const x = two.alloc(N), o = two.alloc(N);
two.write(x, data);
const pool = (two as any).pool;
const orig = pool.adapt.bind(pool);
let late = 0, judged = 0; const ratios: number[] = [];
pool.adapt = (total: number, worked: number, ran: number, blocks: number) => { judged++; const r = total / (worked * blocks / ran); ratios.push(r); if (ran === blocks || r > 0.9) late++; orig(total, worked, ran, blocks); };
for (const op of ["exp", "sigmoid", "add", "softmax"]) {
  late = 0; judged = 0; ratios.length = 0; const p0 = pool.pauses;
  const t0 = performance.now(); let calls = 0;
  while (performance.now() - t0 < 1000) { if (op === "add") two.add(N, x, x, o); else if (op === "softmax") two.softmaxRows(1024, 1024, x, o); else (two as any)[op](N, x, o); calls++; }
  ratios.sort((a, b) => a - b);
  console.log(op, "calls", calls, "ms/call", (1000 / calls).toFixed(3), "judged", judged, "late", late, "pauses", pool.pauses - p0, "ratio p10/p50/p90", [0.1, 0.5, 0.9].map((q) => ratios[Math.floor(q * ratios.length)]?.toFixed(2)).join("/"));
}
two.dispose();

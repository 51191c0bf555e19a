// PC-graph inference steps per second (`npm run bench:train -- graph`): the hierarchical
// 784-32-16-10 classifier and the fully connected 10+200+784 graph, at batch 1 and 64, with
// the image and label clamped (a training relaxation) and, for the fully connected graph,
// with the lower half of the image free (a completion query). Beside it, the same step
// written with TF.js ops on its wasm backend (one thread), given the same saving (the
// clamped sources' part of each prediction computed once). Rounds alternate between the
// two; the headline is the median of the per-round ratios. Also: the share of pcgraph's
// time spent in matmul, from a separate instrumented run.
import * as tf from "@tensorflow/tfjs";
import type { Backend } from "../src/backend/kernels.js";
import { hostLine } from "../src/node/host.js";
import { relax } from "../src/pc/graph/relax.js";
import { fullyConnected, hierarchical, type PCGraphSpec } from "../src/pc/graph/topology.js";
import { PCGraph } from "../src/train/pc-graph.js";
import { tfjsWasm } from "./peer.js";

const STEPS = 20;
const GAMMA = 0.05;

interface Case {
  name: string;
  spec: PCGraphSpec;
  /** Per group: "clamped", "free" or "lower half free". */
  freedom: Record<string, "clamped" | "free" | "half">;
}

const cases: Case[] = [
  {
    name: "hierarchical 784-32-16-10, image + label clamped",
    spec: hierarchical([["sensory", 784, "tanh"], ["hidden1", 32, "tanh"], ["hidden2", 16, "tanh"], ["label", 10]]),
    freedom: { sensory: "clamped", hidden1: "free", hidden2: "free", label: "clamped" },
  },
  {
    name: "fully connected 10+200+784, image + label clamped",
    spec: fullyConnected([["label", 10], ["hidden", 200, "tanh"], ["sensory", 784, "tanh"]]),
    freedom: { label: "clamped", hidden: "free", sensory: "clamped" },
  },
  {
    name: "fully connected 10+200+784, lower half of the image free",
    spec: fullyConnected([["label", 10], ["hidden", 200, "tanh"], ["sensory", 784, "tanh"]]),
    freedom: { label: "free", hidden: "free", sensory: "half" },
  },
];

function inputs(c: Case, batch: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  let seed = 1;
  for (const g of c.spec.groups) {
    const values = new Float32Array(batch * g.size);
    for (let i = 0; i < values.length; i++) values[i] = ((Math.sin(++seed * 12.9898) * 43758.5453) % 1 + 1) % 1;
    out[g.name] = values;
  }
  return out;
}

/** pcgraph: a prepared state relaxed STEPS steps per call. */
function ours(c: Case, batch: number) {
  const net = new PCGraph(c.spec, { seed: 1 });
  const data = inputs(c, batch);
  const clamp: Record<string, Float32Array | { values: Float32Array; mask: number[] }> = {};
  for (const g of c.spec.groups) {
    const f = c.freedom[g.name];
    if (f === "clamped") clamp[g.name] = data[g.name];
    if (f === "half") clamp[g.name] = { values: data[g.name], mask: Array.from({ length: g.size }, (_, i) => (i < g.size / 2 ? 1 : 0)) };
  }
  const read = c.spec.groups.find((g) => c.freedom[g.name] !== "clamped")!.name;
  net.query({ clamp, read: [read], steps: 0 });
  const state = net.state(batch);
  return {
    run: () => relax(state, net.energy, { steps: STEPS, gamma: GAMMA }),
    backend: net.backend,
    dispose: () => net.dispose(),
  };
}

/** TF.js: the same dynamics, x -= gamma C (e - f'(x) sum e_t W^T), with the clamped sources' part of mu computed once. */
function peer(c: Case, batch: number) {
  const data = inputs(c, batch);
  const groups = c.spec.groups;
  const act = (name: string, x: tf.Tensor) => (groups.find((g) => g.name === name)!.activation === "tanh" ? tf.tanh(x) : x);
  const slope = (name: string, x: tf.Tensor) => (groups.find((g) => g.name === name)!.activation === "tanh" ? tf.sub(1, tf.square(tf.tanh(x))) : tf.onesLike(x));
  const weights = new Map(c.spec.edges.map((e) => {
    const from = groups.find((g) => g.name === e.from)!.size;
    const to = groups.find((g) => g.name === e.to)!.size;
    let w = tf.randomNormal([from, to], 0, 0.05);
    if (e.from === e.to) w = tf.mul(w, tf.sub(1, tf.eye(from)));
    return [`${e.from}>${e.to}`, tf.keep(w)];
  }));
  const biases = new Map(groups.map((g) => [g.name, tf.keep(tf.zeros([g.size]))]));
  const x = new Map(groups.map((g) => [g.name, tf.variable(tf.tensor2d(data[g.name], [batch, g.size]))]));
  const freeMask = new Map(groups.map((g) => {
    const f = c.freedom[g.name];
    return [g.name, f === "clamped" ? null : f === "free" ? tf.keep(tf.ones([batch, g.size])) : tf.keep(tf.tile(tf.tensor2d([Array.from({ length: g.size }, (_, i) => (i < g.size / 2 ? 0 : 1))]), [batch, 1]))];
  }));
  const predicted = groups.filter((g) => c.spec.edges.some((e) => e.to === g.name));
  const statics = new Map(predicted.map((g) => [g.name, tf.keep(tf.tidy(() => {
    let mu: tf.Tensor = tf.add(tf.zeros([batch, g.size]), biases.get(g.name)!);
    for (const e of c.spec.edges) if (e.to === g.name && c.freedom[e.from] === "clamped") mu = tf.add(mu, tf.matMul(act(e.from, x.get(e.from)!) as tf.Tensor2D, weights.get(`${e.from}>${e.to}`)! as tf.Tensor2D));
    return mu;
  }))]));
  const step = () => {
    tf.tidy(() => {
      const errors = new Map<string, tf.Tensor>();
      for (const g of predicted) {
        let mu = statics.get(g.name)!;
        for (const e of c.spec.edges) if (e.to === g.name && c.freedom[e.from] !== "clamped") mu = tf.add(mu, tf.matMul(act(e.from, x.get(e.from)!) as tf.Tensor2D, weights.get(`${e.from}>${e.to}`)! as tf.Tensor2D));
        errors.set(g.name, tf.sub(x.get(g.name)!, mu));
      }
      const updates: [string, tf.Tensor][] = [];
      for (const g of groups) {
        const mask = freeMask.get(g.name);
        if (!mask) continue;
        let feedback: tf.Tensor = tf.zeros([batch, g.size]);
        for (const e of c.spec.edges) if (e.from === g.name) feedback = tf.add(feedback, tf.matMul(errors.get(e.to)! as tf.Tensor2D, weights.get(`${e.from}>${e.to}`)! as tf.Tensor2D, false, true));
        let grad = tf.mul(slope(g.name, x.get(g.name)!), feedback);
        grad = errors.has(g.name) ? tf.sub(errors.get(g.name)!, grad) : tf.neg(grad);
        updates.push([g.name, tf.sub(x.get(g.name)!, tf.mul(GAMMA, tf.mul(mask, grad)))]);
      }
      for (const [name, value] of updates) x.get(name)!.assign(value as tf.Tensor2D);
    });
  };
  return {
    run: () => {
      for (let t = 0; t < STEPS; t++) step();
      x.get(groups[0].name)!.dataSync();
    },
    dispose: () => {
      for (const t of [...weights.values(), ...biases.values(), ...x.values(), ...statics.values()]) t.dispose();
      for (const m of freeMask.values()) m?.dispose();
    },
  };
}

function secondsOf(fn: () => void, minSeconds = 0.3): number {
  fn();
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < minSeconds * 1000) {
    fn();
    calls++;
  }
  return (performance.now() - started) / 1000 / calls;
}

/** Share of the time of `fn` spent inside backend.matmul. */
function matmulShare(backend: Backend, fn: () => void): number {
  const original = backend.matmul;
  let inside = 0;
  backend.matmul = function (...args: Parameters<Backend["matmul"]>) {
    const t = performance.now();
    original.apply(this, args);
    inside += performance.now() - t;
  };
  try {
    fn();
    inside = 0;
    const started = performance.now();
    for (let i = 0; i < 5; i++) fn();
    return inside / (performance.now() - started);
  } finally {
    backend.matmul = original;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function graphBenchmark(rounds = 5): Promise<void> {
  await tfjsWasm();
  console.log(`\nPC-graph inference: steps per second (relaxations of ${STEPS} steps), pcgraph and TF.js wasm (one thread) interleaved, ${rounds} rounds`);
  console.log(hostLine());
  console.log("| graph | batch | pcgraph steps/s | TF.js steps/s | pcgraph / TF.js (median of rounds) | pcgraph time in matmul |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const c of cases)
    for (const batch of [1, 64]) {
      const a = ours(c, batch);
      const b = peer(c, batch);
      const ratios: number[] = [];
      const oursRates: number[] = [];
      const peerRates: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const mine = STEPS / secondsOf(a.run);
        const theirs = STEPS / secondsOf(b.run);
        oursRates.push(mine);
        peerRates.push(theirs);
        ratios.push(mine / theirs);
      }
      const share = matmulShare(a.backend, a.run);
      console.log(`| ${c.name} | ${batch} | ${median(oursRates).toFixed(0)} | ${median(peerRates).toFixed(0)} | ${median(ratios).toFixed(2)}x | ${(100 * share).toFixed(0)}% |`);
      a.dispose();
      b.dispose();
    }
}

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError } from "../../src/backend/errors.js";
import type { BackendName } from "../../src/backend/load.js";
import { layers, sequential } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import {
  createOptimizer,
  scheduledLearningRate,
  type OptimizerConfig,
  type ScheduleConfig,
} from "../../src/train/optimizers.js";
import { memory, tensor, type Tensor } from "../../src/tensor.js";
import { randomArray } from "../arbitraries.js";
import { assertClose } from "../util/backends.js";

const test = suite("optimizers");

function smallGraph(backend: BackendName): Graph {
  return sequential([3], [layers.dense(4), layers.tanh(), layers.dense(2)], { loss: "mse", seed: 5, backend });
}

/** Fixed pseudo-random gradients for each step, by parameter name. */
function gradientSeries(graph: Graph, steps: number): Map<string, Float64Array>[] {
  return Array.from({ length: steps }, (_, t) =>
    new Map(graph.parameters.map((p, i) => [p.name, randomArray(p.size, 1000 * t + 17 * i + 3, 2)])));
}

/** The closed-form update rules in float64, one parameter array at a time. */
function referenceRun(config: OptimizerConfig, initial: Map<string, Float64Array>, grads: Map<string, Float64Array>[]): Map<string, Float64Array> {
  const lr0 = config.learningRate;
  const mu = config.momentum ?? 0.9;
  const b1 = config.beta1 ?? 0.9;
  const b2 = config.beta2 ?? 0.999;
  const eps = config.epsilon ?? 1e-8;
  const wd = config.weightDecay ?? 0;
  const schedule: ScheduleConfig = config.schedule ?? { kind: "constant" };
  const out = new Map<string, Float64Array>();
  for (const [name, start] of initial) {
    const p = Float64Array.from(start);
    const v = new Float64Array(p.length);
    const m = new Float64Array(p.length);
    grads.forEach((series, t) => {
      const lr = scheduleReference(lr0, schedule, t);
      const g = series.get(name)!;
      for (let i = 0; i < p.length; i++) {
        if (config.kind === "sgd") p[i] -= lr * (g[i] + wd * p[i]);
        else if (config.kind === "momentum") {
          const gi = g[i] + wd * p[i];
          v[i] = mu * v[i] + gi;
          p[i] -= lr * (config.nesterov ? gi + mu * v[i] : v[i]);
        } else {
          let gi = g[i];
          if (config.decoupledWeightDecay) p[i] -= lr * wd * p[i];
          else gi += wd * p[i];
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          const mHat = m[i] / (1 - b1 ** (t + 1));
          const vHat = v[i] / (1 - b2 ** (t + 1));
          p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
        }
      }
    });
    out.set(name, p);
  }
  return out;
}

function scheduleReference(lr: number, s: ScheduleConfig, t: number): number {
  if (s.kind === "step") return lr * s.gamma ** Math.floor(t / s.stepSize);
  if (s.kind === "cosine") {
    const min = s.minLearningRate ?? 0;
    return min + 0.5 * (lr - min) * (1 + Math.cos((Math.PI * Math.min(t, s.totalSteps)) / s.totalSteps));
  }
  return lr;
}

function toTensors(graph: Graph, grads: Map<string, Float64Array>): Map<string, Tensor> {
  return new Map(graph.parameters.map((p) => [p.name, tensor(grads.get(p.name)!, p.shape, { backend: graph.backend })]));
}

/** Runs the optimizer for every step of the series and returns the final weights. */
function optimizerRun(config: OptimizerConfig, backend: BackendName, steps = 4): { actual: Map<string, Float64Array>; expected: Map<string, Float64Array> } {
  const graph = smallGraph(backend);
  const initial = graph.getWeights();
  const series = gradientSeries(graph, steps);
  const optimizer = createOptimizer(config);
  const tensors = series.map((g) => toTensors(graph, g));
  try {
    for (const g of tensors) optimizer.step(graph, g);
    return { actual: graph.getWeights(), expected: referenceRun(config, initial, series) };
  } finally {
    for (const m of tensors) for (const t of m.values()) t.dispose();
    optimizer.dispose();
    graph.dispose();
  }
}

function maxDifference(a: Map<string, Float64Array>, b: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

// Each config sets one option away from its default; the matching entry in `baseline` is
// the same config without it. The optimizer must match the closed form *and* differ from
// the baseline, so an option that is ignored fails.
const cases: { label: string; config: OptimizerConfig; baseline: OptimizerConfig }[] = [
  { label: "sgd", config: { kind: "sgd", learningRate: 0.1 }, baseline: { kind: "sgd", learningRate: 0.05 } },
  { label: "sgd weightDecay", config: { kind: "sgd", learningRate: 0.1, weightDecay: 0.3 }, baseline: { kind: "sgd", learningRate: 0.1 } },
  { label: "momentum", config: { kind: "momentum", learningRate: 0.1 }, baseline: { kind: "sgd", learningRate: 0.1 } },
  { label: "momentum value", config: { kind: "momentum", learningRate: 0.1, momentum: 0.5 }, baseline: { kind: "momentum", learningRate: 0.1 } },
  { label: "nesterov", config: { kind: "momentum", learningRate: 0.1, nesterov: true }, baseline: { kind: "momentum", learningRate: 0.1 } },
  { label: "momentum weightDecay", config: { kind: "momentum", learningRate: 0.1, weightDecay: 0.2 }, baseline: { kind: "momentum", learningRate: 0.1 } },
  { label: "nesterov weightDecay", config: { kind: "momentum", learningRate: 0.1, nesterov: true, weightDecay: 0.2 }, baseline: { kind: "momentum", learningRate: 0.1, nesterov: true } },
  { label: "adam", config: { kind: "adam", learningRate: 0.01 }, baseline: { kind: "sgd", learningRate: 0.01 } },
  { label: "adam beta1", config: { kind: "adam", learningRate: 0.01, beta1: 0.5 }, baseline: { kind: "adam", learningRate: 0.01 } },
  { label: "adam beta2", config: { kind: "adam", learningRate: 0.01, beta2: 0.9 }, baseline: { kind: "adam", learningRate: 0.01 } },
  { label: "adam epsilon", config: { kind: "adam", learningRate: 0.01, epsilon: 0.5 }, baseline: { kind: "adam", learningRate: 0.01 } },
  { label: "adam weightDecay (L2)", config: { kind: "adam", learningRate: 0.01, weightDecay: 0.5 }, baseline: { kind: "adam", learningRate: 0.01 } },
  {
    label: "adam decoupledWeightDecay",
    config: { kind: "adam", learningRate: 0.01, weightDecay: 0.5, decoupledWeightDecay: true },
    baseline: { kind: "adam", learningRate: 0.01, weightDecay: 0.5 },
  },
  {
    label: "step schedule",
    config: { kind: "sgd", learningRate: 0.1, schedule: { kind: "step", stepSize: 2, gamma: 0.3 } },
    baseline: { kind: "sgd", learningRate: 0.1 },
  },
  {
    label: "cosine schedule",
    config: { kind: "momentum", learningRate: 0.1, schedule: { kind: "cosine", totalSteps: 3 } },
    baseline: { kind: "momentum", learningRate: 0.1 },
  },
  {
    label: "cosine minLearningRate",
    config: { kind: "adam", learningRate: 0.1, schedule: { kind: "cosine", totalSteps: 3, minLearningRate: 0.05 } },
    baseline: { kind: "adam", learningRate: 0.1, schedule: { kind: "cosine", totalSteps: 3 } },
  },
  {
    label: "constant schedule",
    config: { kind: "sgd", learningRate: 0.1, schedule: { kind: "constant" } },
    baseline: { kind: "sgd", learningRate: 0.1, schedule: { kind: "step", stepSize: 1, gamma: 0.5 } },
  },
];

for (const { label, config, baseline } of cases) {
  test(`${label}: equals the float64 closed form and differs without the option`, () => {
    const { actual, expected } = optimizerRun(config, "reference-f64");
    for (const [name, values] of expected) assertClose(`${label} ${name}`, actual.get(name)!, values, 1e-12, 1e-14);
    const without = optimizerRun(baseline, "reference-f64").actual;
    assert.ok(maxDifference(actual, without) > 1e-6, `${label}: the option made no difference`);
  });
}

test("every optimizer on wasm matches the float64 closed form to f32 precision", () => {
  for (const { label, config } of cases) {
    const { actual, expected } = optimizerRun(config, "wasm-simd");
    for (const [name, values] of expected) assertClose(`${label} ${name}`, actual.get(name)!, values, 1e-5, 1e-5);
  }
});

test("schedules: learning rate at given steps", () => {
  const step: ScheduleConfig = { kind: "step", stepSize: 3, gamma: 0.1 };
  assert.equal([0, 2, 3, 5, 6].map((t) => scheduledLearningRate(1, step, t)), [1, 1, 0.1, 0.1, 0.1 * 0.1]);
  const cosine: ScheduleConfig = { kind: "cosine", totalSteps: 10, minLearningRate: 0.1 };
  assert.is(scheduledLearningRate(1, cosine, 0), 1);
  assert.ok(Math.abs(scheduledLearningRate(1, cosine, 5) - 0.55) < 1e-15);
  assert.ok(Math.abs(scheduledLearningRate(1, cosine, 10) - 0.1) < 1e-15);
  assert.ok(Math.abs(scheduledLearningRate(1, cosine, 50) - 0.1) < 1e-15);
  assert.is(scheduledLearningRate(0.3, { kind: "constant" }, 99), 0.3);
  // The optimizer reports the rate of its next step.
  const graph = smallGraph("reference-f64");
  const optimizer = createOptimizer({ kind: "sgd", learningRate: 1, schedule: step });
  const grads = toTensors(graph, gradientSeries(graph, 1)[0]);
  const rates: number[] = [];
  for (let t = 0; t < 4; t++) {
    rates.push(optimizer.learningRate());
    optimizer.step(graph, grads);
  }
  assert.equal(rates, [1, 1, 1, 0.1]);
  assert.is(optimizer.steps, 4);
  for (const t of grads.values()) t.dispose();
  optimizer.dispose();
  graph.dispose();
});

test("state and loadState continue a run bit for bit", () => {
  for (const backend of ["reference-f64", "wasm-simd"] as const)
    for (const config of [
      { kind: "momentum", learningRate: 0.1, nesterov: true },
      { kind: "adam", learningRate: 0.01, schedule: { kind: "cosine", totalSteps: 4 } },
    ] as OptimizerConfig[]) {
      const straight = smallGraph(backend);
      const split = smallGraph(backend);
      const series = gradientSeries(straight, 5).map((g) => toTensors(straight, g));
      const a = createOptimizer(config);
      for (const g of series) a.step(straight, g);
      const first = createOptimizer(config);
      for (const g of series.slice(0, 3)) first.step(split, g);
      const saved = first.state();
      first.dispose();
      assert.is(saved.step, 3);
      assert.is(saved.kind, config.kind);
      const second = createOptimizer(config);
      second.loadState(saved);
      assert.is(second.learningRate(), scheduledLearningRate(config.learningRate, config.schedule ?? { kind: "constant" }, 3));
      for (const g of series.slice(3)) second.step(split, g);
      assert.is(maxDifference(straight.getWeights(), split.getWeights()), 0, `${backend} ${config.kind}`);
      for (const m of series) for (const t of m.values()) t.dispose();
      for (const x of [a, second, straight, split]) x.dispose();
    }
});

test("loadState rejects a state of another kind or shape", () => {
  const graph = smallGraph("reference-f64");
  const momentum = createOptimizer({ kind: "momentum", learningRate: 0.1 });
  const grads = toTensors(graph, gradientSeries(graph, 1)[0]);
  momentum.step(graph, grads);
  const state = momentum.state();
  const adam = createOptimizer({ kind: "adam", learningRate: 0.1 });
  assert.throws(() => adam.loadState(state), /state\.kind/);
  const broken = { ...state, slots: state.slots.map((s, i) => (i === 0 ? { ...s, shape: [99], data: new Float64Array(99) } : s)) };
  const other = createOptimizer({ kind: "momentum", learningRate: 0.1 });
  other.loadState(broken);
  assert.throws(() => other.step(graph, grads), /slot/);
  for (const o of [momentum, adam, other]) o.dispose();
  for (const t of grads.values()) t.dispose();
  graph.dispose();
});

test("a step allocates nothing after the first", () => {
  for (const config of cases.map((c) => c.config)) {
    const graph = smallGraph("wasm-simd");
    const grads = toTensors(graph, gradientSeries(graph, 1)[0]);
    const optimizer = createOptimizer(config);
    optimizer.step(graph, grads);
    const before = memory().numTensors;
    for (let i = 0; i < 3; i++) optimizer.step(graph, grads);
    assert.is(memory().numTensors, before, config.kind);
    optimizer.dispose();
    for (const t of grads.values()) t.dispose();
    graph.dispose();
  }
});

test("invalid configs name the field", () => {
  const bad: [unknown, RegExp][] = [
    [{ kind: "rmsprop", learningRate: 1 }, /optimizer\.kind/],
    [{ kind: "sgd", learningRate: -1 }, /optimizer\.learningRate/],
    [{ kind: "sgd", learningRate: NaN }, /optimizer\.learningRate/],
    [{ kind: "sgd" }, /optimizer\.learningRate/],
    [{ kind: "momentum", learningRate: 1, momentum: 1 }, /optimizer\.momentum/],
    [{ kind: "momentum", learningRate: 1, nesterov: "yes" }, /optimizer\.nesterov/],
    [{ kind: "sgd", learningRate: 1, nesterov: true }, /optimizer\.nesterov applies to the momentum/],
    [{ kind: "sgd", learningRate: 1, beta1: 0.9 }, /optimizer\.beta1 applies to the adam/],
    [{ kind: "adam", learningRate: 1, beta1: 1.5 }, /optimizer\.beta1/],
    [{ kind: "adam", learningRate: 1, beta2: -0.1 }, /optimizer\.beta2/],
    [{ kind: "adam", learningRate: 1, epsilon: 0 }, /optimizer\.epsilon/],
    [{ kind: "adam", learningRate: 1, weightDecay: -1 }, /optimizer\.weightDecay/],
    [{ kind: "adam", learningRate: 1, learning_rate: 1 }, /optimizer\.learning_rate is not an optimizer option/],
    [{ kind: "sgd", learningRate: 1, schedule: { kind: "linear" } }, /optimizer\.schedule\.kind/],
    [{ kind: "sgd", learningRate: 1, schedule: { kind: "step", stepSize: 0, gamma: 0.5 } }, /optimizer\.schedule\.stepSize/],
    [{ kind: "sgd", learningRate: 1, schedule: { kind: "step", stepSize: 2, gamma: 0 } }, /optimizer\.schedule\.gamma/],
    [{ kind: "sgd", learningRate: 1, schedule: { kind: "cosine", totalSteps: 1.5 } }, /optimizer\.schedule\.totalSteps/],
    [{ kind: "sgd", learningRate: 1, schedule: { kind: "cosine", totalSteps: 5, minLearningRate: 2 } }, /optimizer\.schedule\.minLearningRate/],
    [{ kind: "sgd", learningRate: 1, schedule: { kind: "step", stepSize: 2, gamma: 0.5, warmup: 3 } }, /optimizer\.schedule\.warmup/],
  ];
  for (const [config, pattern] of bad) {
    try {
      createOptimizer(config as OptimizerConfig);
      assert.unreachable(`accepted ${JSON.stringify(config)}`);
    } catch (error) {
      assert.instance(error, InvalidArgumentError, JSON.stringify(config));
      assert.match((error as Error).message, pattern);
    }
  }
});

test("a missing gradient names the parameter", () => {
  const graph = smallGraph("reference-f64");
  const grads = toTensors(graph, gradientSeries(graph, 1)[0]);
  const name = graph.parameters[1].name;
  grads.get(name)!.dispose();
  grads.delete(name);
  const optimizer = createOptimizer({ kind: "sgd", learningRate: 0.1 });
  assert.throws(() => optimizer.step(graph, grads), new RegExp(name.replace(".", "\\.")));
  for (const t of grads.values()) t.dispose();
  graph.dispose();
});

test("step over a list of parameters updates those only: the others stay frozen, weight decay included", () => {
  for (const kind of ["sgd", "momentum", "adam"] as const) {
    const graph = smallGraph("reference-f64");
    const before = graph.getWeights();
    const [frozen, ...trainable] = graph.parameters;
    const grads = new Map(trainable.map((p, i) => [p.name, tensor(randomArray(p.size, 40 + i), [...p.shape], { backend: graph.backend })]));
    const optimizer = createOptimizer({ kind, learningRate: 0.1, weightDecay: 0.1 });
    optimizer.step(graph, grads, trainable);
    optimizer.step(graph, grads, trainable);
    const after = graph.getWeights();
    assert.equal(after.get(frozen.name), before.get(frozen.name), `${kind}: the frozen parameter is unchanged`);
    for (const p of trainable) assert.not.equal(after.get(p.name), before.get(p.name), `${kind}: ${p.name} moved`);
    const slotNames = optimizer.state().slots.map((slot) => slot.name);
    assert.ok(slotNames.every((n) => !n.startsWith(`${frozen.name}.`)), `${kind}: no slot for the frozen parameter (${slotNames})`);
    assert.throws(() => optimizer.step(graph, grads), /parameters this optimizer was stepping/, `${kind}: another parameter list is refused`);
    optimizer.dispose();
    for (const t of grads.values()) t.dispose();
    graph.dispose();
  }
  assert.is(memory().numTensors, 0);
});

test.run();

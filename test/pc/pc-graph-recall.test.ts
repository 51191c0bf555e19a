// What recall schedules read and how they relax: a query returns any group's prediction
// MU_g (checked against a float64 recomputation from the weights and the relaxed values),
// and heavy-ball momentum reaches the minimum plain descent reaches, in fewer steps.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError } from "../../src/backend/errors.js";
import { HopfieldEnergy } from "../../src/pc/graph/hopfield.js";
import { hierarchical } from "../../src/pc/graph/topology.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import { randomArray } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const test = suite("PC graph predictions and momentum");

function throwsTyped(fn: () => unknown, type: new (...a: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type, `expected a ${type.name}, got ${(error as Error)?.message}`);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${type.name} matching ${pattern}`);
}

/** MU_t = b_t + f(X_s) W_st in float64 from the model's weights (the sources' values given). */
function oracle(weights: Map<string, Float64Array>, source: ArrayLike<number>, from: string, to: string, nFrom: number, nTo: number,
  f: (x: number) => number): Float64Array {
  const batch = source.length / nFrom;
  const w = weights.get(`${from}->${to}.weight`)!;
  const b = weights.get(`${to}.bias`)!;
  const out = new Float64Array(batch * nTo);
  for (let r = 0; r < batch; r++)
    for (let j = 0; j < nTo; j++) {
      let s = b[j];
      for (let i = 0; i < nFrom; i++) s += f(source[r * nFrom + i]) * w[i * nTo + j];
      out[r * nTo + j] = s;
    }
  return out;
}

test("a query returns the predictions of the groups it names, clamped ones included (MU = b + f(X) W in float64)", leakFree(() => {
  const net = new PCGraph(hierarchical([["image", 5], ["hidden", 3, "tanh"], ["top", 2, "tanh"]], { direction: "backward" }), { seed: 3, backend: "reference-f64" });
  const image = randomArray(2 * 5, 11, 1);
  const result = net.query({ clamp: { image }, start: { top: randomArray(4, 12, 1) }, read: ["hidden", "top"], predict: ["image", "hidden"], steps: 25, gamma: 0.05, tolerance: 0 });
  const weights = net.getWeights();
  const expectImage = oracle(weights, result.values.hidden, "hidden", "image", 3, 5, Math.tanh);
  const expectHidden = oracle(weights, result.values.top, "top", "hidden", 2, 3, Math.tanh);
  // float64 backend: only summation order differs from the oracle.
  for (let i = 0; i < expectImage.length; i++) assert.ok(Math.abs(result.predictions.image[i] - expectImage[i]) < 1e-12, `image[${i}]`);
  for (let i = 0; i < expectHidden.length; i++) assert.ok(Math.abs(result.predictions.hidden[i] - expectHidden[i]) < 1e-12, `hidden[${i}]`);
  net.dispose();
}));

test("reading predictions alone is a query; the step stream's predict is the prediction at that step", leakFree(async () => {
  const net = new PCGraph(hierarchical([["image", 4], ["top", 3, "tanh"]], { direction: "backward" }), { seed: 1 });
  const image = randomArray(4, 5, 1);
  const direct = net.query({ clamp: { image }, read: [], predict: ["image"], steps: 10, gamma: 0.1, tolerance: 0 });
  assert.equal(Object.keys(direct.values), []);
  const run = net.querySteps({ clamp: { image }, read: [], predict: ["image"], steps: 10, gamma: 0.1, tolerance: 0 });
  let last: Float32Array | Float64Array | null = null;
  let count = 0;
  for (;;) {
    const next = await run.next();
    if (next.done) {
      assert.equal(Array.from(next.value.predictions.image), Array.from(direct.predictions.image), "same relaxation, same prediction");
      break;
    }
    last = next.value.predict("image");
    count++;
  }
  assert.is(count, 11, "steps 0..10");
  assert.equal(Array.from(last!), Array.from(direct.predictions.image), "the last step's prediction is the final one");
  net.dispose();
}));

test("predict refuses a group nobody predicts, an unknown group and a non-list, before touching the state", leakFree(() => {
  const net = new PCGraph(hierarchical([["image", 4], ["top", 3, "tanh"]], { direction: "backward" }), { seed: 1 });
  const image = randomArray(4, 5, 1);
  throwsTyped(() => net.query({ clamp: { image }, read: [], predict: ["top"] }), InvalidArgumentError, /group "top" is predicted by no edge/);
  throwsTyped(() => net.query({ clamp: { image }, read: [], predict: ["pixels"] }), InvalidArgumentError, /unknown group "pixels"/);
  throwsTyped(() => net.query({ clamp: { image }, read: [], predict: "image" as unknown as string[] }), InvalidArgumentError, /predict must be a list/);
  throwsTyped(() => net.query({ clamp: { image }, read: [] }), InvalidArgumentError, /read must name at least one group/);
  net.dispose();
}));

test("heavy-ball momentum reaches the minimum plain descent reaches, in fewer steps (a convex energy)", leakFree(() => {
  // Identity activations: F is a convex quadratic in the free units, with one minimum.
  const net = new PCGraph(hierarchical([["image", 12], ["hidden", 6], ["top", 4]], { direction: "backward" }), { seed: 2, backend: "reference-f64" });
  const image = randomArray(3 * 12, 21, 1);
  const mask = Array.from({ length: 12 }, (_, i) => (i < 7 ? 1 : 0));
  const query = { clamp: { image: { values: image, mask } }, read: ["image", "hidden", "top"], gamma: 0.05, tolerance: 1e-9, steps: 100000, init: "zeros" as const };
  const plain = net.query(query);
  const fast = net.query({ ...query, momentum: 0.9 });
  assert.ok(plain.converged && fast.converged, "both reach the tolerance");
  assert.ok(fast.steps < plain.steps / 3, `momentum: ${fast.steps} steps, plain descent: ${plain.steps}`);
  for (const group of ["image", "hidden", "top"])
    plain.values[group].forEach((v, i) => assert.ok(Math.abs(v - fast.values[group][i]) < 1e-6, `${group}[${i}]: ${v} vs ${fast.values[group][i]}`));
  // Clamped entries are never written, with or without momentum.
  for (let r = 0; r < 3; r++) for (let i = 0; i < 7; i++) assert.is(fast.values.image[r * 12 + i], image[r * 12 + i]);
  net.dispose();
}));

test("momentum outside [0, 1), or with an energy that projects its steps into a box, is refused naming it", leakFree(() => {
  const net = new PCGraph(hierarchical([["image", 4], ["top", 3]], { direction: "backward" }), { seed: 1 });
  for (const momentum of [1, -0.1, NaN])
    throwsTyped(() => net.query({ clamp: { image: randomArray(4, 1, 1) }, read: ["top"], momentum }), InvalidArgumentError, /momentum must be a number in \[0, 1\)/);
  net.dispose();
  const hopfield = new PCGraph({ groups: [{ name: "in", size: 2, activation: "hardSigmoid" }, { name: "h", size: 3, activation: "hardSigmoid" }],
    edges: [{ from: "in", to: "h" }, { from: "h", to: "h" }] }, { seed: 1, energy: (model) => [new HopfieldEnergy(model)] });
  throwsTyped(() => hopfield.query({ clamp: { in: [0.5, 0.5] }, read: ["h"], momentum: 0.5, init: "zeros" }), InvalidArgumentError, /momentum applies to unconstrained energies/);
  hopfield.dispose();
}));

test.run();

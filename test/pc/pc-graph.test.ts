// Properties of PC graphs (docs/pc-graphs.md) against float64 references written here:
// the energy and its derivatives by central finite differences of a plain-TypeScript F,
// descent of F on random graphs with cycles, clamps that never move, iPC = PC at one step,
// and the same dynamics as the IL engine on the equivalent feedforward graph.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { GraphBuilder } from "../../src/graph/builder.js";
import { PCEngine } from "../../src/pc/engine.js";
import { Energy, PredictionErrors } from "../../src/pc/graph/energy.js";
import { PCGraphModel } from "../../src/pc/graph/model.js";
import { initializeValues } from "../../src/pc/graph/init.js";
import { evaluate, inferenceStep, relax } from "../../src/pc/graph/relax.js";
import { gradientBuffers, incrementalLearning, learningStep, pcLearning } from "../../src/pc/graph/schedules.js";
import { PCGraphState } from "../../src/pc/graph/state.js";
import type { GroupActivation, Topology } from "../../src/pc/graph/topology.js";
import { Random } from "../../src/random.js";
import { tensor, type Tensor } from "../../src/tensor.js";
import { createOptimizer } from "../../src/train/optimizers.js";
import { describePCGraph, pcGraphArbitrary, randomArray, type RandomPCGraph } from "../arbitraries.js";
import { leakFree } from "../util/leaks.js";

const pcg = suite("PC graphs");

// ---- the float64 reference: F = 1/2 sum_t |X_t - b_t - sum_{s->t} f_s(X_s) W_st|^2 ----------

function f(activation: GroupActivation, slope: number, x: number): number {
  switch (activation) {
    case "identity": return x;
    case "tanh": return Math.tanh(x);
    case "sigmoid": return 1 / (1 + Math.exp(-x));
    case "softplus": return x > 30 ? x : Math.log1p(Math.exp(x));
    case "gelu": return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case "leakyRelu": return x > 0 ? x : slope * x;
    case "relu": return Math.max(0, x);
    case "hardSigmoid": return Math.min(Math.max(x, 0), 1);
  }
}

function referenceEnergy(topology: Topology, batch: number, values: Float64Array[], weights: Map<string, Float64Array>): number {
  let energy = 0;
  for (const t of topology.groups) {
    if (t.inEdges.length === 0) continue;
    const bias = weights.get(`${t.name}.bias`);
    for (let b = 0; b < batch; b++)
      for (let j = 0; j < t.size; j++) {
        let mu = bias ? bias[j] : 0;
        for (const e of t.inEdges) {
          const w = weights.get(e.weightName)!;
          for (let i = 0; i < e.from.size; i++) mu += f(e.from.activation, e.from.slope, values[e.from.index][b * e.from.size + i]) * w[i * t.size + j];
        }
        const err = values[t.index][b * t.size + j] - mu;
        energy += 0.5 * err * err;
      }
  }
  return energy;
}

interface Setup {
  model: PCGraphModel;
  energy: Energy;
  state: PCGraphState;
  values: Float64Array[];
  weights: Map<string, Float64Array>;
  dispose(): void;
}

/** A model and state on `backend` with random weights (std `weightScale`) and values in [-1, 1]. */
function setUp(drawn: RandomPCGraph, backend: "reference-f64" | "wasm-simd" = "reference-f64", weightScale = 0.5): Setup {
  const model = new PCGraphModel(drawn.spec, { seed: drawn.seed, backend, weightInit: { kind: "normal", std: weightScale } });
  const random = new Random(drawn.seed + 7);
  const biases = new Map(model.parameters.filter((p) => p.name.endsWith(".bias")).map((p) => [p.name, Float64Array.from({ length: p.size }, () => random.uniform(-0.5, 0.5))]));
  model.setWeights(biases, { partial: true });
  const state = new PCGraphState(model, drawn.batch);
  const values = model.groups.map((g, i) => randomArray(drawn.batch * g.size, drawn.seed + 100 + i));
  model.groups.forEach((g, i) => {
    state.values[i].assign(values[i]);
    state.valuesChanged(g);
    state.setFreedom(g, drawn.freedom[i]);
  });
  return {
    model, state, values, weights: model.getWeights(), energy: new Energy([new PredictionErrors(model)]),
    dispose: () => {
      state.dispose();
      model.dispose();
    },
  };
}

const isFree = (drawn: RandomPCGraph, g: number, entry: number) => {
  const fr = drawn.freedom[g];
  return fr === "free" || (Array.isArray(fr) && fr[entry] === 1);
};

// Tolerance: central differences with h = 1e-5 on F of size O(1-10) err by ~h^2 |F'''| plus
// rounding ~1e-16 |F| / h; 1e-6 (1 + |g|) leaves a margin of 100x over both.
pcg("the inference step equals -gamma dF/dX on the free units (central differences of F) on random graphs with cycles", leakFree(() => {
  fc.assert(
    fc.property(pcGraphArbitrary(), (drawn) => {
      const s = setUp(drawn);
      try {
        evaluate(s.state, s.energy, true);
        const energy = s.energy.value(s.state);
        const reference = referenceEnergy(s.model.topology, drawn.batch, s.values, s.weights);
        if (Math.abs(energy - reference) > 1e-10 * (1 + Math.abs(reference)))
          throw new Error(`energy ${energy} != reference ${reference} on\n${describePCGraph(drawn)}`);
        const gamma = 0.05;
        inferenceStep(s.state, gamma);
        const h = 1e-5;
        s.model.groups.forEach((g, gi) => {
          const after = s.state.values[gi].dataSync();
          for (let i = 0; i < after.length; i++) {
            const plus = s.values.map((v) => v.slice());
            const minus = s.values.map((v) => v.slice());
            plus[gi][i] += h;
            minus[gi][i] -= h;
            const grad = (referenceEnergy(s.model.topology, drawn.batch, plus, s.weights) - referenceEnergy(s.model.topology, drawn.batch, minus, s.weights)) / (2 * h);
            const expected = isFree(drawn, gi, i) ? s.values[gi][i] - gamma * grad : s.values[gi][i];
            if (Math.abs(after[i] - expected) > 1e-6 * gamma * (1 + Math.abs(grad)))
              throw new Error(`group ${g.name} unit ${i}: step moved to ${after[i]}, expected ${expected} (dF/dx ${grad}) on\n${describePCGraph(drawn)}`);
          }
        });
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 80, includeErrorInReport: true },
  );
}));

pcg("the learning step equals (1/B) dF/dtheta (central differences of F), and masked weights get exactly 0", leakFree(() => {
  fc.assert(
    fc.property(pcGraphArbitrary(), (drawn) => {
      const s = setUp(drawn);
      const gradients = gradientBuffers(s.model);
      try {
        learningStep(s.state, s.energy, gradients);
        const h = 1e-5;
        for (const p of s.model.parameters) {
          const got = gradients.get(p.name)!.dataSync();
          const edge = s.model.edges.find((e) => e.weightName === p.name);
          for (let i = 0; i < p.size; i++) {
            if (edge?.mask && edge.mask[i] === 0) {
              if (got[i] !== 0) throw new Error(`${p.name}[${i}] is masked but its gradient is ${got[i]} on\n${describePCGraph(drawn)}`);
              continue;
            }
            const plus = new Map(s.weights);
            const minus = new Map(s.weights);
            plus.set(p.name, s.weights.get(p.name)!.slice());
            minus.set(p.name, s.weights.get(p.name)!.slice());
            plus.get(p.name)![i] += h;
            minus.get(p.name)![i] -= h;
            const expected = (referenceEnergy(s.model.topology, drawn.batch, s.values, plus) - referenceEnergy(s.model.topology, drawn.batch, s.values, minus)) / (2 * h) / drawn.batch;
            if (Math.abs(got[i] - expected) > 1e-6 * (1 + Math.abs(expected)))
              throw new Error(`${p.name}[${i}]: gradient ${got[i]}, finite differences ${expected} on\n${describePCGraph(drawn)}`);
          }
        }
      } finally {
        for (const g of gradients.values()) g.dispose();
        s.dispose();
      }
    }),
    { numRuns: 80, includeErrorInReport: true },
  );
}));

// Tolerance: F may only rise by float64 rounding of F itself (1e-12 relative); gamma 0.01 is
// below 2 / curvature for these sizes and weights (std 0.5, at most 4 groups of 5 units).
pcg("relaxation never raises the energy for a small inference rate, on random graphs with cycles", leakFree(() => {
  fc.assert(
    fc.property(pcGraphArbitrary(), (drawn) => {
      const s = setUp(drawn);
      try {
        const energies: number[] = [];
        relax(s.state, s.energy, { steps: 40, gamma: 0.01, onStep: (e) => energies.push(e.energy) });
        for (let t = 1; t < energies.length; t++)
          if (energies[t] > energies[t - 1] * (1 + 1e-12) + 1e-15)
            throw new Error(`energy rose at step ${t}: ${energies[t - 1]} -> ${energies[t]} on\n${describePCGraph(drawn)}`);
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 80, includeErrorInReport: true },
  );
}));

pcg("a rate above the curvature can raise the energy (the property above has teeth)", leakFree(() => {
  const drawn: RandomPCGraph = {
    spec: { groups: [{ name: "a", size: 3, activation: "tanh" }, { name: "b", size: 3, activation: "tanh" }], edges: [{ from: "a", to: "b" }, { from: "b", to: "a" }, { from: "b", to: "b" }] },
    batch: 2, seed: 3, freedom: ["free", "free"],
  };
  const s = setUp(drawn, "reference-f64", 1.5);
  const energies: number[] = [];
  relax(s.state, s.energy, { steps: 10, gamma: 2.5, onStep: (e) => energies.push(e.energy) });
  s.dispose();
  assert.ok(energies.some((e, t) => t > 0 && e > energies[t - 1]), `energies ${energies.map((e) => e.toFixed(3)).join(", ")}`);
}));

pcg("clamped units never move, bit for bit, during a long relaxation in float32", leakFree(() => {
  fc.assert(
    fc.property(pcGraphArbitrary(), (drawn) => {
      const s = setUp(drawn, "wasm-simd");
      try {
        const before = s.state.values.map((v) => v.dataSync());
        relax(s.state, s.energy, { steps: 30, gamma: 0.05 });
        s.model.groups.forEach((g, gi) => {
          const after = s.state.values[gi].dataSync();
          for (let i = 0; i < after.length; i++)
            if (!isFree(drawn, gi, i) && !Object.is(after[i], before[gi][i]))
              throw new Error(`clamped unit ${i} of ${g.name} moved: ${before[gi][i]} -> ${after[i]} on\n${describePCGraph(drawn)}`);
        });
      } finally {
        s.dispose();
      }
    }),
    { numRuns: 60, includeErrorInReport: true },
  );
}));

pcg("iPC with one step equals PC with one step (same weights after the update, bit for bit)", leakFree(() => {
  fc.assert(
    fc.property(pcGraphArbitrary(), fc.constantFrom("reference-f64" as const, "wasm-simd" as const), (drawn, backend) => {
      const results: Map<string, Float64Array>[] = [];
      for (const algorithm of ["pc", "ipc"]) {
        const s = setUp(drawn, backend);
        const gradients = gradientBuffers(s.model);
        const optimizer = createOptimizer({ kind: "sgd", learningRate: 0.1 });
        try {
          const o = { steps: 1, gamma: 0.1 };
          if (algorithm === "pc") pcLearning(s.state, s.energy, optimizer, gradients, o);
          else incrementalLearning(s.state, s.energy, optimizer, gradients, o);
          results.push(s.model.getWeights());
        } finally {
          optimizer.dispose();
          for (const g of gradients.values()) g.dispose();
          s.dispose();
        }
      }
      for (const [name, pc] of results[0]) {
        const ipc = results[1].get(name)!;
        for (let i = 0; i < pc.length; i++)
          if (!Object.is(pc[i], ipc[i])) throw new Error(`${name}[${i}]: PC ${pc[i]}, iPC ${ipc[i]} on ${backend}\n${describePCGraph(drawn)}`);
      }
    }),
    { numRuns: 40, includeErrorInReport: true },
  );
}));

// The op graph in -> dense -> tanh -> dense -> tanh -> dense (mse) and its PC graph twin
// (docs/pc-graphs.md, "Equivalence with IL"): dense vertices are identity groups, each tanh
// vertex a group fed through an identity weight by a tanh group.
pcg("on a hierarchy with the output clamped, PC-graph inference takes the IL engine's steps and reaches its equilibrium", leakFree(() => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }),
      (sizes, batch, seedValue) => {
        const g = new GraphBuilder();
        let x = g.input([sizes[0]], "in");
        for (let l = 1; l < sizes.length; l++) {
          x = g.dense(x, sizes[l], { name: `d${l}` });
          if (l < sizes.length - 1) x = g.activation("tanh", x, { name: `t${l}` });
        }
        const graph = g.build({ output: x, loss: "mse", seed: seedValue, backend: "reference-f64" });
        const groups: { name: string; size: number; activation: GroupActivation; bias?: boolean }[] = [{ name: "in", size: sizes[0], activation: "identity" }];
        const edges: { from: string; to: string }[] = [];
        for (let l = 1; l < sizes.length; l++) {
          const last = l === sizes.length - 1;
          groups.push({ name: `d${l}`, size: sizes[l], activation: last ? "identity" : "tanh" });
          edges.push({ from: groups[groups.length - 2].name, to: `d${l}` });
          if (!last) {
            groups.push({ name: `t${l}`, size: sizes[l], activation: "identity", bias: false });
            edges.push({ from: `d${l}`, to: `t${l}` });
          }
        }
        const model = new PCGraphModel({ groups, edges }, { backend: "reference-f64" });
        const weights = new Map<string, Float64Array>();
        const graphWeights = graph.getWeights();
        for (let l = 1; l < sizes.length; l++) {
          const source = l === 1 ? "in" : `t${l - 1}`;
          weights.set(`${source}->d${l}.weight`, graphWeights.get(`d${l}.weight`)!);
          weights.set(`d${l}.bias`, graphWeights.get(`d${l}.bias`)!);
          if (l < sizes.length - 1) {
            const identity = new Float64Array(sizes[l] * sizes[l]);
            for (let i = 0; i < sizes[l]; i++) identity[i * sizes[l] + i] = 1;
            weights.set(`d${l}->t${l}.weight`, identity);
          }
        }
        model.setWeights(weights);
        const inputs = randomArray(batch * sizes[0], seedValue + 1);
        const target = randomArray(batch * sizes[sizes.length - 1], seedValue + 2);
        const state = new PCGraphState(model, batch);
        const energy = new Energy([new PredictionErrors(model)]);
        const tensors: Tensor[] = [];
        const engines: PCEngine[] = [];
        try {
          for (const steps of [7, 3000]) {
            const inputTensor = tensor(inputs, [batch, sizes[0]], { backend: "reference-f64" });
            const targetTensor = tensor(target, [batch, sizes[sizes.length - 1]], { backend: "reference-f64" });
            tensors.push(inputTensor, targetTensor);
            // Plain gradient descent for exactly `steps` steps: no momentum, no tolerance.
            const engine = new PCEngine(graph, { algorithm: "il", steps, gamma: 0.1, momentum: 0, tolerance: 0, outputWeight: batch, recordEnergy: false });
            engines.push(engine);
            engine.run({ inputs: inputTensor, target: targetTensor });
            const il = engine.lastState!;
            const lastName = `d${sizes.length - 1}`;
            for (const grp of model.groups) {
              state.setFreedom(grp, grp.name === "in" || grp.name === lastName ? "clamped" : "free");
              state.values[grp.index].assign(grp.name === "in" ? inputs : grp.name === lastName ? target : new Float64Array(batch * grp.size));
              state.valuesChanged(grp);
            }
            initializeValues(state, energy, "forward"); // the feedforward pass, as IL starts
            const relaxed = relax(state, energy, { steps, gamma: 0.1 });
            for (const v of il.network.vertices) {
              if (v.isInput || v.isOutput) continue;
              const grp = model.group(v.name);
              const ours = state.values[grp.index].dataSync();
              const theirs = il.value[v.index].dataSync();
              for (let i = 0; i < ours.length; i++)
                if (Math.abs(ours[i] - theirs[i]) > 1e-12 * (1 + Math.abs(theirs[i])))
                  throw new Error(`after ${steps} steps, ${v.name}[${i}]: PC graph ${ours[i]}, IL ${theirs[i]} (sizes ${sizes}, batch ${batch}, seed ${seedValue})`);
            }
            if (steps === 3000 && !(relaxed.residual < 1e-8)) throw new Error(`no equilibrium after 3000 steps: residual ${relaxed.residual}`);
          }
        } finally {
          for (const e of engines) e.dispose();
          for (const t of tensors) t.dispose();
          state.dispose();
          model.dispose();
          graph.dispose();
        }
      }),
    { numRuns: 30, includeErrorInReport: true },
  );
}));

pcg.run();

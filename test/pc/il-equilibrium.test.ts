// IL is defined at the equilibrium of inference: every IL result reports the residual
// max |dF/dx| it stopped at, inference stops on a stated tolerance within a step budget,
// and the defaults reach that tolerance on deep smooth networks.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { layers, sequential, type Layer } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { IL_DEFAULTS, PCEngine } from "../../src/pc/engine.js";
import { isFree } from "../../src/pc/dynamics.js";
import type { PCState } from "../../src/pc/state.js";
import { randomBatch } from "../../src/pc/random-graph.js";
import type { Batch } from "../../src/reference/backprop.js";
import type { Tensor } from "../../src/tensor.js";
import { seed } from "../arbitraries.js";
import { leakChecked as leakCheckedTest } from "../util/leaks.js";

const test = suite("IL equilibrium");

/** A test that checks, inside itself, that it freed every tensor. */
const leakChecked = leakCheckedTest(test);

type Smooth = "tanh" | "gelu" | "sigmoid" | "softplus";

/** A 5-layer MLP: four hidden layers and the output layer. */
function fiveLayers(activation: Smooth, width: number, s: number, backend: "reference-f64" | "wasm-simd", loss: "mse" | "softmaxCrossEntropy" = "softmaxCrossEntropy"): Graph {
  const hidden: Layer[] = Array.from({ length: 4 }, () => [layers.dense(width), layers.activation(activation)]).flat();
  return sequential([12], [...hidden, layers.dense(4)], { loss, seed: s, backend });
}

function disposeBatch(batch: Batch): void {
  for (const t of [...Object.values(batch.inputs as Record<string, Tensor>), batch.target]) t.dispose();
}

/** Recomputes every prediction and error from the current values. */
function refresh(state: PCState): void {
  for (const v of state.network.vertices) {
    if (v.isInput) continue;
    state.predict(v);
    state.updateError(v);
  }
}

/** max |dF/dx| over the free vertices by central differences of the energy (float64 oracle). */
function residualByFiniteDifferences(state: PCState): number {
  const h = 1e-6;
  let largest = 0;
  for (const v of state.network.vertices.filter(isFree)) {
    const value = state.value[v.index];
    const x = Float64Array.from(value.dataSync());
    for (let i = 0; i < x.length; i++) {
      const saved = x[i];
      const energyAt = (delta: number) => {
        x[i] = saved + delta;
        value.assign(x);
        refresh(state);
        return state.energy();
      };
      const derivative = (energyAt(h) - energyAt(-h)) / (2 * h);
      x[i] = saved;
      largest = Math.max(largest, Math.abs(derivative));
    }
    value.assign(x);
  }
  refresh(state);
  return largest;
}

// Tolerance of the oracle: central differences with h = 1e-6 on an energy of ~1e-2 in
// float64 err by ~1e-10 absolute; residuals here are 1e-6..1e-2, compared at 1e-4 relative
// plus 1e-9 absolute.
leakChecked("every IL result reports the residual max |dF/dx|, equal to finite differences of the energy", () => {
  for (const [steps, tolerance] of [[0, 0], [7, 0], [IL_DEFAULTS.maxSteps, IL_DEFAULTS.tolerance]] as const) {
    const graph = fiveLayers("tanh", 5, 11, "reference-f64", "mse");
    const batch = randomBatch(graph, 3, 5);
    const engine = new PCEngine(graph, { algorithm: "il", steps, tolerance, outputWeight: 0.5 });
    try {
      const result = engine.run(batch);
      const inference = result.inference!;
      assert.ok(inference, "IL reports how far inference got");
      assert.is(result.steps, steps === 0 ? 0 : tolerance === 0 ? steps : result.steps);
      const oracle = residualByFiniteDifferences(engine.lastState!);
      assert.ok(Math.abs(inference.residual - oracle) <= 1e-4 * oracle + 1e-9, `steps ${steps}: reported ${inference.residual}, finite differences ${oracle}`);
      if (steps === 0) assert.is(inference.initialResidual, inference.residual);
    } finally {
      engine.dispose();
      disposeBatch(batch);
      graph.dispose();
    }
  }
});

leakChecked("20 steps at gamma 0.1 without momentum stop far from equilibrium on a 5-layer tanh network, and the result says so", () => {
  const graph = fiveLayers("tanh", 16, 2, "wasm-simd");
  const batch = randomBatch(graph, 16, 3);
  const engine = new PCEngine(graph, { algorithm: "il", steps: 20, gamma: 0.1, momentum: 0 });
  try {
    const { steps, inference } = engine.run(batch);
    assert.is(steps, 20, "the whole budget is taken");
    assert.not.ok(inference!.converged, "not converged");
    assert.ok(inference!.residual > 1e-2 * inference!.initialResidual, `relative residual ${inference!.residual / inference!.initialResidual}`);
  } finally {
    engine.dispose();
    disposeBatch(batch);
    graph.dispose();
  }
});

leakChecked("IL's defaults reach their tolerance within the budget on a 5-layer tanh network in float32", () => {
  const graph = fiveLayers("tanh", 16, 2, "wasm-simd");
  const batch = randomBatch(graph, 16, 3);
  const engine = new PCEngine(graph, { algorithm: "il" });
  try {
    const { steps, inference } = engine.run(batch);
    assert.ok(inference!.converged, `converged (residual ${inference!.residual / inference!.initialResidual} after ${steps} steps)`);
    assert.ok(inference!.residual <= IL_DEFAULTS.tolerance * inference!.initialResidual);
    assert.ok(steps < IL_DEFAULTS.maxSteps, `${steps} steps`);
  } finally {
    engine.dispose();
    disposeBatch(batch);
    graph.dispose();
  }
});

leakChecked("on a ReLU network the residual stalls (fixed-size steps chatter at the kinks): inference stops early and says so", () => {
  const graph = sequential([12], [layers.dense(32), layers.relu(), layers.dense(32), layers.relu(), layers.dense(32), layers.relu(), layers.dense(4)],
    { loss: "softmaxCrossEntropy", seed: 4, backend: "wasm-simd" });
  const batch = randomBatch(graph, 32, 5);
  const engine = new PCEngine(graph, { algorithm: "il", recordEnergy: false });
  try {
    const { steps, inference } = engine.run(batch);
    assert.ok(inference!.stalled, `stalled (relative residual ${inference!.residual / inference!.initialResidual} after ${steps} steps)`);
    assert.not.ok(inference!.converged);
    assert.ok(steps < IL_DEFAULTS.maxSteps, `stopped before the budget: ${steps} steps`);
    const fixed = new PCEngine(graph, { algorithm: "il", tolerance: 0, steps: 150, recordEnergy: false });
    try {
      assert.is(fixed.run(batch).steps, 150, "tolerance 0 takes the whole budget, stalled or not");
    } finally {
      fixed.dispose();
    }
  } finally {
    engine.dispose();
    disposeBatch(batch);
    graph.dispose();
  }
});

leakChecked("on any 5-layer MLP with smooth activations IL's defaults converge within the budget (float64)", () => {
  fc.assert(
    fc.property(fc.constantFrom<Smooth>("tanh", "gelu", "sigmoid", "softplus"), fc.integer({ min: 3, max: 12 }), fc.integer({ min: 1, max: 8 }),
      fc.constantFrom(1, 0.1, 0.01), fc.constantFrom("mse" as const, "softmaxCrossEntropy" as const), seed,
      (activation, width, batchSize, outputWeight, loss, s) => {
        const graph = fiveLayers(activation, width, s % 10_000, "reference-f64", loss);
        const batch = randomBatch(graph, batchSize, s);
        const engine = new PCEngine(graph, { algorithm: "il", outputWeight, recordEnergy: false });
        try {
          const { steps, inference } = engine.run(batch);
          if (!inference!.converged)
            throw new Error(`${activation} width ${width}, batch ${batchSize}, w ${outputWeight}, ${loss}: relative residual ${inference!.residual / inference!.initialResidual} after ${steps} steps`);
        } finally {
          engine.dispose();
          disposeBatch(batch);
          graph.dispose();
        }
      }),
    { numRuns: 8 },
  );
});

test.run();

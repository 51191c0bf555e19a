// The losses' gradients against central finite differences of the loss each algorithm
// reports, for cross-entropy targets that do not sum to 1 (two-hot rows, unnormalised soft
// labels, all-zero rows) as well as one-hot rows: backprop and every PC algorithm must
// follow the gradient of the loss they print.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { sequential, layers } from "../../src/graph/builder.js";
import type { Graph } from "../../src/graph/graph.js";
import { predict } from "../../src/graph/forward.js";
import { lossValue, outputError } from "../../src/graph/loss.js";
import { pcGradients, type PCOptions } from "../../src/pc/engine.js";
import { backprop, type Batch } from "../../src/reference/backprop.js";
import { tensor, type Tensor } from "../../src/tensor.js";
import { randomArray, seed } from "../arbitraries.js";
import { leakChecked as leakCheckedTest } from "../util/leaks.js";

const test = suite("loss gradients");

/** A test that checks, inside itself, that it freed every tensor. */
const leakChecked = leakCheckedTest(test);

const classes = 4;
type RowKind = "oneHot" | "twoHot" | "soft" | "zero";

/** A target row of the given kind: two-hot and soft rows do not sum to 1. */
function targetRow(kind: RowKind, s: number): number[] {
  const r = randomArray(classes, s).map((v) => (v + 1) / 2);
  const first = Math.floor(r[0] * classes) % classes;
  const row = new Array(classes).fill(0);
  if (kind === "oneHot") row[first] = 1;
  else if (kind === "twoHot") {
    row[first] = 1;
    row[(first + 1 + Math.floor(r[1] * (classes - 1))) % classes] = 1;
  } else if (kind === "soft") for (let j = 0; j < classes; j++) row[j] = 1.5 * r[j];
  return row;
}

const targetsArbitrary = fc.array(fc.tuple(fc.constantFrom<RowKind>("oneHot", "twoHot", "soft", "zero"), seed), { minLength: 1, maxLength: 4 })
  .filter((rows) => rows.some(([kind]) => kind === "twoHot" || kind === "soft"));

function smallNetwork(s: number): Graph {
  return sequential([5], [layers.dense(6), layers.tanh(), layers.dense(6), layers.tanh(), layers.dense(classes)],
    { loss: "softmaxCrossEntropy", seed: s, backend: "reference-f64" });
}

function makeBatch(rows: [RowKind, number][], s: number): Batch {
  const inputs = tensor(randomArray(rows.length * 5, s, 2), [rows.length, 5], { backend: "reference-f64" });
  const target = tensor(rows.flatMap(([kind, rs]) => targetRow(kind, rs)), [rows.length, classes], { backend: "reference-f64" });
  return { inputs, target };
}

/** The loss the graph reports on a batch at its current weights. */
function reportedLoss(graph: Graph, batch: Batch): number {
  const prediction = predict(graph, batch.inputs);
  try {
    return lossValue(graph.loss, prediction, batch.target);
  } finally {
    prediction.dispose();
  }
}

/** Central differences of the reported loss with respect to every weight (float64, h = 1e-6). */
function finiteDifferenceGradients(graph: Graph, batch: Batch): Map<string, Float64Array> {
  const weights = graph.getWeights();
  const out = new Map<string, Float64Array>();
  const h = 1e-6;
  for (const [name, values] of weights) {
    const gradient = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const saved = values[i];
      values[i] = saved + h;
      graph.setWeights(new Map([[name, values]]));
      const up = reportedLoss(graph, batch);
      values[i] = saved - h;
      graph.setWeights(new Map([[name, values]]));
      const down = reportedLoss(graph, batch);
      values[i] = saved;
      gradient[i] = (up - down) / (2 * h);
    }
    graph.setWeights(new Map([[name, values]]));
    out.set(name, gradient);
  }
  return out;
}

/** max |a - b| over every entry / max |b|. */
function relativeError(actual: Map<string, Tensor>, expected: Map<string, Float64Array>): number {
  let worst = 0;
  let scale = 0;
  for (const [name, e] of expected) {
    const a = actual.get(name)!.dataSync();
    for (let i = 0; i < e.length; i++) {
      scale = Math.max(scale, Math.abs(e[i]));
      worst = Math.max(worst, Math.abs(a[i] - e[i]));
    }
  }
  return worst / scale;
}

function disposeBatch(batch: Batch): void {
  (batch.inputs as Tensor).dispose();
  batch.target.dispose();
}

// Tolerances: central differences with h = 1e-6 on a float64 loss of magnitude ~1 err by
// ~1e-10 absolute against gradients of ~1e-2..1e-1, so 1e-6 relative for the exact
// algorithms (BP, Z-IL, FPA). IL at output weight 1e-3 run to equilibrium differs from BP
// by O(w) (arXiv 2206.02629): up to 6e-3 of the gradient on these networks; 2e-2 leaves
// room and still catches the 0.35 relative error of a gradient that ignores the row sum.
const exact: [string, PCOptions | "bp", number][] = [
  ["backprop", "bp", 1e-6],
  ["Z-IL", { algorithm: "zil" }, 1e-6],
  ["FPA", { algorithm: "fpa" }, 1e-6],
  ["IL at output weight 1e-3", { algorithm: "il", outputWeight: 1e-3 }, 2e-2],
];

leakChecked("cross-entropy gradients of BP, Z-IL, FPA and IL equal finite differences of the reported loss when targets do not sum to 1", () => {
  fc.assert(
    fc.property(targetsArbitrary, seed, (rows, s) => {
      const graph = smallNetwork(s % 1000);
      const batch = makeBatch(rows, s);
      try {
        const expected = finiteDifferenceGradients(graph, batch);
        for (const [label, algorithm, tolerance] of exact) {
          const { loss, gradients } = algorithm === "bp" ? backprop(graph, batch) : pcGradients(graph, batch, algorithm);
          const error = relativeError(gradients, expected);
          for (const g of gradients.values()) g.dispose();
          assert.ok(Math.abs(loss - reportedLoss(graph, batch)) <= 1e-12 * Math.max(1, Math.abs(loss)), `${label} reports the graph's loss`);
          if (!(error <= tolerance))
            throw new Error(`${label}: relative error ${error.toExponential(3)} > ${tolerance} for target rows ${JSON.stringify(batch.target.toArray())}`);
        }
      } finally {
        disposeBatch(batch);
        graph.dispose();
      }
    }),
    { numRuns: 12 },
  );
});

// The output error unit is where the loss enters every PC algorithm: e_out = -w dL/dmu.
leakChecked("the output error unit equals -w times finite differences of the loss in the prediction, for any target rows", () => {
  fc.assert(
    fc.property(targetsArbitrary, seed, fc.constantFrom(1, 0.1, 1e-3), (rows, s, weight) => {
      const mu = randomArray(rows.length * classes, s, 3);
      const t = rows.flatMap(([kind, rs]) => targetRow(kind, rs));
      const shape = [rows.length, classes];
      const prediction = tensor(mu, shape, { backend: "reference-f64" });
      const target = tensor(t, shape, { backend: "reference-f64" });
      const error = tensor(new Float64Array(mu.length), shape, { backend: "reference-f64" });
      try {
        outputError("softmaxCrossEntropy", prediction, target, error, weight);
        const actual = error.dataSync();
        const h = 1e-6;
        for (let i = 0; i < mu.length; i++) {
          const at = (delta: number) => {
            const moved = Float64Array.from(mu);
            moved[i] += delta;
            prediction.assign(moved);
            return lossValue("softmaxCrossEntropy", prediction, target);
          };
          const derivative = (at(h) - at(-h)) / (2 * h);
          assert.ok(Math.abs(actual[i] + weight * derivative) <= 1e-8 * weight,
            `entry ${i}: e = ${actual[i]}, -w dL/dmu = ${-weight * derivative} (targets ${JSON.stringify(t)})`);
        }
      } finally {
        for (const x of [prediction, target, error]) x.dispose();
      }
    }),
    { numRuns: 40 },
  );
});

leakChecked("on the wasm f32 backend a two-hot batch gets the same output error as on float64", () => {
  const t = [1, 1, 0, 0, 0.2, 0.3, 0.9, 0, 0, 0, 0, 1];
  const mu = [0.5, -1, 2, 0.1, 0, 0, 1, -2, 3, 1, 0, -1];
  const results: number[][] = [];
  for (const backend of ["reference-f64", "wasm-simd"] as const) {
    const prediction = tensor(mu, [3, 4], { backend });
    const target = tensor(t, [3, 4], { backend });
    const error = tensor(new Array(12).fill(0), [3, 4], { backend });
    outputError("softmaxCrossEntropy", prediction, target, error);
    results.push(Array.from(error.dataSync()));
    for (const x of [prediction, target, error]) x.dispose();
  }
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(results[0][i] - results[1][i]) <= 1e-6, `entry ${i}: ${results[0][i]} vs ${results[1][i]}`);
});

test.run();

// Part 1: gradient alignment against beta. On a batch of MNIST digits, each method's gradient
// estimate is compared with its oracle:
//   - EqProp one-sided, EqProp symmetric and CHL's nudged clamp on a 784-H-10 energy-based
//     network (hard sigmoid), against the equilibrium gradient of src/reference/equilibrium.ts
//     (implicit differentiation in float64);
//   - nudged PC (the PC energy with the output free and nudged) on the 784-H-10 feedforward
//     PC graph (tanh hidden), against the reference backprop of the same network.
// In float64 with the fixed points solved tightly, and in float32 on the wasm backend (its
// floor). The table gives cosine similarity and relative error; the plot is log-log.
import type { BackendName } from "../../src/backend/load.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { hierarchical } from "../../src/pc/graph/topology.js";
import { backprop } from "../../src/reference/backprop.js";
import { equilibriumReference, solveEquilibrium, type EquilibriumProblem } from "../../src/reference/equilibrium.js";
import { tensor, type Tensor } from "../../src/tensor.js";
import { subset, shuffledIndices, oneHot, type Dataset } from "../../src/train/data/dataset.js";
import { EnergyBasedNetwork, layeredNetwork, nudgedPCEnergy } from "../../src/train/energy-based.js";
import type { LearnOptions } from "../../src/train/pc-graph.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import { markdownTable } from "./report.js";
import { lineChartSvg, type SeriesStyle } from "../../src/train/plot.js";

/** What part 1 measures and on what. */
export interface AlignmentOptions {
  data: Dataset;
  hidden: number;
  batch: number;
  betas: number[];
  seed: number;
  /** Tolerances of the relaxations: float64 (tight) and float32 (its floor). */
  tolerance: { f64: number; f32: number };
  backends: BackendName[];
  log(line: string): void;
}

/** One method, backend and beta: its cosine and relative error to its oracle. */
export interface AlignmentRow {
  method: string;
  backend: BackendName;
  beta: number;
  cosine: number;
  relativeError: number;
  /** Largest final residual over the phases. */
  residual: number;
  seconds: number;
}

/** Part 1's rows, notes, section of results.md and plot. */
export interface AlignmentResult {
  rows: AlignmentRow[];
  /** About the oracles: residuals, curvature, loss. */
  notes: string[];
  markdown: string;
  svg: string;
}

const noUpdate = { step: () => {} };

function flatten(names: string[], gradients: Map<string, Tensor | Float64Array>): Float64Array {
  const out: number[] = [];
  for (const name of names) {
    const g = gradients.get(name)!;
    for (const v of g instanceof Float64Array ? g : g.dataSync()) out.push(v);
  }
  return Float64Array.from(out);
}

function compare(estimate: Float64Array, oracle: Float64Array): { cosine: number; relativeError: number } {
  let dot = 0, ee = 0, oo = 0, dd = 0;
  for (let i = 0; i < oracle.length; i++) {
    dot += estimate[i] * oracle[i];
    ee += estimate[i] ** 2;
    oo += oracle[i] ** 2;
    dd += (estimate[i] - oracle[i]) ** 2;
  }
  return { cosine: dot / Math.sqrt(ee * oo), relativeError: Math.sqrt(dd / oo) };
}

interface Method {
  name: string;
  /** Builds the network on a backend with the same initial weights for every backend. */
  build(backend: BackendName): PCGraph;
  options(beta: number, tolerance: number): LearnOptions;
}

/** Runs part 1: every method against its oracle for every beta and backend. */
export function runAlignment(o: AlignmentOptions): AlignmentResult {
  const picked = subset(o.data, shuffledIndices(o.data.size, o.seed).subarray(0, o.batch));
  const x = Float64Array.from(picked.features);
  const y = Float64Array.from(oneHot(picked.labels, picked.numClasses));
  const classes = picked.numClasses;
  const features = x.length / o.batch;
  const notes: string[] = [];
  const spec = layeredNetwork([features, o.hidden, classes]);
  const pcSpec = hierarchical([["sensory", features], ["hidden", o.hidden, "tanh"], ["label", classes]]);

  // The oracles, once, in float64.
  const ebm = new EnergyBasedNetwork(spec, { seed: o.seed, backend: "reference-f64" });
  const ebmNames = ebm.parameters.map((p) => p.name);
  const started = performance.now();
  const problem: EquilibriumProblem = { topology: ebm.model.topology, weights: ebm.getWeights(), batch: o.batch, clamped: { sensory: x }, output: "label", target: y };
  const reference = equilibriumReference(problem, { curvature: true });
  notes.push(`equilibrium oracle: loss ${reference.loss.toFixed(6)}, residual of its fixed points ${reference.residual.toExponential(1)}, ` +
    `smallest Hessian eigenvalue on the moving units ${reference.curvature!.toFixed(3)} (a strict minimum), ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const equilibriumOracle = flatten(ebmNames, reference.gradients);
  // EqProp's O(beta) and O(beta^2) laws hold once the nudge no longer moves units onto or off
  // the bounds of the hard sigmoid's box: count the units that switch at each beta.
  const held = (values: Float64Array) => Array.from(values, (v) => v === 0 || v === 1);
  const freeHeld = [...held(reference.fixedPoint.hidden), ...held(reference.fixedPoint.label)];
  const switches = o.betas.map((beta) => {
    const nudged = solveEquilibrium(problem, { beta, start: reference.fixedPoint }).fixedPoint;
    const nudgedHeld = [...held(nudged.hidden), ...held(nudged.label)];
    return nudgedHeld.filter((h, i) => h !== freeHeld[i]).length;
  });
  notes.push(`units (of ${freeHeld.length}: ${o.batch} samples x ${o.hidden + classes}) that move onto or off a bound of the box between the free and the +beta fixed point: ` +
    o.betas.map((beta, i) => `${switches[i]} at beta ${beta}`).join(", ") + "; the asymptotic laws need none");
  const weights = ebm.getWeights();
  ebm.dispose();

  const pc = new PCGraph(pcSpec, { seed: o.seed, backend: "reference-f64", energy: nudgedPCEnergy("label") });
  const pcNames = pc.parameters.map((p) => p.name);
  const pcWeights = pc.getWeights();
  pc.dispose();
  const g = new GraphBuilder();
  const input = g.input([features], "x");
  const graph = g.build({ output: g.dense(g.tanh(g.dense(input, o.hidden)), classes), loss: "mse", backend: "reference-f64" });
  // The op graph's dense1/dense2 weight and bias are the PC graph's edges and biases, in order.
  const byKind = (names: string[], kind: string) => names.filter((n) => n.endsWith(kind));
  const opNames = graph.parameters.map((p) => p.name);
  const pcToOp = new Map([...byKind(pcNames, ".weight").map((n, i) => [n, byKind(opNames, ".weight")[i]] as const),
    ...byKind(pcNames, ".bias").map((n, i) => [n, byKind(opNames, ".bias")[i]] as const)]);
  graph.setWeights(new Map(pcNames.map((n) => [pcToOp.get(n)!, pcWeights.get(n)!])));
  const inputs = tensor(x, [o.batch, features], { backend: graph.backend });
  const target = tensor(y, [o.batch, classes], { backend: graph.backend });
  const bp = backprop(graph, { inputs, target });
  const backpropOracle = flatten(pcNames.map((n) => pcToOp.get(n)!), bp.gradients);
  notes.push(`backprop oracle: MSE loss ${bp.loss.toFixed(6)} of the feedforward network 784-${o.hidden}(tanh)-${classes}`);
  for (const t of [...bp.gradients.values(), inputs, target]) t.dispose();
  graph.dispose();

  const relax = (tolerance: number) => ({ steps: 200000, gamma: 0.5, tolerance });
  const methods: (Method & { oracle: Float64Array; names: string[] })[] = [
    {
      name: "nudged PC", oracle: backpropOracle, names: pcNames,
      build: (backend) => {
        const net = new PCGraph(pcSpec, { backend, energy: nudgedPCEnergy("label") });
        net.setWeights(pcWeights);
        return net;
      },
      options: (beta, tolerance) => ({ algorithm: "eqprop", ...relax(tolerance), gamma: 0.2, equilibrium: { beta, nudging: "one-sided", nonConvergence: "ignore" } }),
    },
    ...(["one-sided", "symmetric"] as const).map((nudging) => ({
      name: `EqProp ${nudging}`, oracle: equilibriumOracle, names: ebmNames,
      build: (backend: BackendName) => {
        const net = new EnergyBasedNetwork(spec, { backend });
        net.setWeights(weights);
        return net;
      },
      options: (beta: number, tolerance: number): LearnOptions => ({ algorithm: "eqprop", ...relax(tolerance), equilibrium: { beta, nudging, nonConvergence: "ignore" } }),
    })),
    {
      name: "CHL nudged", oracle: equilibriumOracle, names: ebmNames,
      build: (backend) => {
        const net = new EnergyBasedNetwork(spec, { backend });
        net.setWeights(weights);
        return net;
      },
      options: (beta, tolerance) => ({ algorithm: "chl", ...relax(tolerance), equilibrium: { beta, clamp: "nudged", nonConvergence: "ignore" } }),
    },
  ];

  const rows: AlignmentRow[] = [];
  for (const backend of o.backends)
    for (const method of methods) {
      const net = method.build(backend);
      try {
        for (const beta of o.betas) {
          const t0 = performance.now();
          const tolerance = backend === "reference-f64" ? o.tolerance.f64 : o.tolerance.f32;
          const result = net.learn({ clamp: { sensory: x, label: y } }, noUpdate, method.options(beta, tolerance));
          const measured = compare(flatten(method.names, net.lastGradients!), method.oracle);
          const row = { method: method.name, backend, beta, ...measured, residual: result.residual, seconds: (performance.now() - t0) / 1000 };
          rows.push(row);
          o.log(`  ${backend} ${method.name} beta ${beta}: cosine ${row.cosine.toFixed(6)}, relative error ${row.relativeError.toExponential(2)} ` +
            `(residual ${row.residual.toExponential(1)}, ${row.seconds.toFixed(1)} s)`);
        }
      } finally {
        net.dispose();
      }
    }

  const header = ["method", "backend", ...o.betas.map((b) => `beta ${b}`)];
  const table = (metric: (r: AlignmentRow) => string) => markdownTable(header, o.backends.flatMap((backend) => methods.map((m) => [
    m.name, backend === "reference-f64" ? "float64" : `float32 (${backend})`,
    ...o.betas.map((beta) => metric(rows.find((r) => r.method === m.name && r.backend === backend && r.beta === beta)!)),
  ])));
  const slopes = o.backends.flatMap((backend) => methods.map((m) => {
    const errors = o.betas.map((beta) => rows.find((r) => r.method === m.name && r.backend === backend && r.beta === beta)!.relativeError);
    const last = Math.log10(errors[errors.length - 2] / errors[errors.length - 1]) / Math.log10(o.betas[o.betas.length - 2] / o.betas[o.betas.length - 1]);
    return `${m.name} (${backend === "reference-f64" ? "float64" : "float32"}): ${fittedSlope(o.betas, errors).toFixed(2)} (last decade ${last.toFixed(2)})`;
  }));
  const markdown = [
    `Cosine similarity with the oracle (784-${o.hidden}-${classes}, a batch of ${o.batch} digits, seed ${o.seed}):`, "",
    table((r) => r.cosine.toFixed(6)), "",
    "Relative error |estimate - oracle| / |oracle|:", "",
    table((r) => r.relativeError.toExponential(2)), "",
    `Fitted slope of log(relative error) against log(beta) over beta ${o.betas.join(", ")}: ${slopes.join("; ")}.`, "",
    ...notes.map((n) => `- ${n}`),
    `- relaxation: gradient descent with gamma 0.5 (nudged PC 0.2) to a residual of ${o.tolerance.f64} (float64) or ${o.tolerance.f32} (float32).`,
  ].join("\n");
  const svg = alignmentChart(rows, methods.map((m) => m.name), o.backends, o.betas, `784-${o.hidden}-${classes}, MNIST batch of ${o.batch}`);
  return { rows, notes, markdown, svg };
}

const METHOD_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/**
 * The relative error of each method against beta on log-log axes (the shared line chart): one
 * colour per method, float64 solid and float32 dashed.
 */
export function alignmentChart(rows: AlignmentRow[], methods: string[], backends: readonly string[], betas: number[], network: string): string {
  const labels: string[] = [];
  const styles: Record<string, SeriesStyle> = {};
  const series: [number, number][][] = [];
  for (const backend of backends)
    methods.forEach((method, i) => {
      const label = `${method}${backends.length > 1 ? (backend === "reference-f64" ? " (f64)" : " (f32)") : ""}`;
      labels.push(label);
      styles[label] = { colour: METHOD_COLOURS[i % METHOD_COLOURS.length], dash: backend === "reference-f64" ? "" : "7 5", width: 2 };
      series.push(betas.map((beta) => [beta, rows.find((r) => r.method === method && r.backend === backend && r.beta === beta)!.relativeError]));
    });
  return lineChartSvg([{ title: "relative error to the oracle", series }], {
    title: "Gradient error against beta", subtitle: `${network}; float64 solid, float32 dashed`,
    labels, styles, logX: true, logY: true, xLabel: "beta", yLabel: "relative error |estimate - oracle| / |oracle|",
    panelWidth: 760, panelHeight: 460,
  });
}

/** Least-squares slope of log10(error) against log10(beta). */
export function fittedSlope(betas: number[], errors: number[]): number {
  const lx = betas.map(Math.log10);
  const ly = errors.map(Math.log10);
  const mx = lx.reduce((a, b) => a + b) / lx.length;
  const my = ly.reduce((a, b) => a + b) / ly.length;
  return lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / lx.reduce((s, v) => s + (v - mx) ** 2, 0);
}

// Part 2: training a 784-H-10 network with each rule, on the float32 wasm backend, all with
// Adam, the same batches (seeded), the same epochs and the MSE loss on one-hot targets:
//   - EqProp (symmetric nudging) and CHL (full clamp) on the layered energy-based network
//     (hard sigmoid, one symmetric weight per pair of layers);
//   - nudged PC on the feedforward PC graph (tanh hidden, output free and nudged);
//   - Z-IL and BP on the same feedforward network as an op graph (dense - tanh - dense).
// Test accuracy after the last epoch and the median time per epoch (evaluation included).
import { layers, sequential } from "../../src/graph/builder.js";
import { hierarchical } from "../../src/pc/graph/topology.js";
import type { Dataset } from "../../src/train/data/dataset.js";
import { EnergyBasedNetwork, layeredNetwork, nudgedPCEnergy } from "../../src/train/energy-based.js";
import { fit } from "../../src/train/fit.js";
import type { PCGraphFitOptions } from "../../src/train/pc-graph-fit.js";
import { PCGraph } from "../../src/train/pc-graph.js";
import { markdownTable } from "./report.js";

/** What part 3 trains and on what. */
export interface TrainingOptions {
  datasets: { key: string; name: string; train: Dataset; test: Dataset; note: string }[];
  hidden: number;
  epochs: number;
  batchSize: number;
  seed: number;
  /** Methods to run (default all). */
  methods?: string[];
  log(line: string): void;
}

/** One method on one dataset: accuracy, time and relaxations that stopped at their budget. */
export interface TrainingRow {
  dataset: string;
  method: string;
  accuracy: number;
  accuracies: number[];
  secondsPerEpoch: number;
  /** Relaxation phases that stopped above their tolerance, over the run. */
  unconverged: number;
}

/** Part 3's rows and its section of results.md. */
export interface TrainingResult {
  rows: TrainingRow[];
  markdown: string;
}

/** Relaxation and nudging of the energy-based rules (chosen on the bundled digits; see docs/energy-based.md). */
export const energyBasedSettings = { steps: 60, secondSteps: 30, gamma: 0.5, beta: 2, learningRate: 5e-4 } as const;
/** Nudged PC's settings in part 3. */
export const nudgedPCSettings = { steps: 60, gamma: 0.2, beta: 0.1, learningRate: 1e-3 } as const;
/** Adam's learning rate for Z-IL and BP in part 3. */
export const backpropRate = 1e-3;

/** The methods of part 3, in table order. */
export const trainingMethods = ["EqProp symmetric", "CHL", "nudged PC", "Z-IL", "BP"] as const;

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs part 3: every method on every dataset. */
export async function runTraining(o: TrainingOptions): Promise<TrainingResult> {
  const rows: TrainingRow[] = [];
  const wanted = o.methods ?? [...trainingMethods];
  for (const data of o.datasets) {
    const features = data.train.features.length / data.train.size;
    const classes = data.train.numClasses;
    for (const method of trainingMethods) {
      if (!wanted.includes(method)) continue;
      let unconverged = 0;
      const accuracies: number[] = [];
      const seconds: number[] = [];
      const onEpoch = (r: { epoch: number; testAccuracy?: number; seconds: number }) => {
        accuracies.push(r.testAccuracy ?? NaN);
        seconds.push(r.seconds);
        o.log(`  ${data.key} ${method} epoch ${r.epoch}: test accuracy ${(100 * (r.testAccuracy ?? NaN)).toFixed(2)}%, ${r.seconds.toFixed(1)} s`);
      };
      if (method === "Z-IL" || method === "BP") {
        const graph = sequential([features], [layers.dense(o.hidden), layers.tanh(), layers.dense(classes)], { loss: "mse", seed: o.seed });
        try {
          await fit(graph, data, {
            algorithm: method === "BP" ? "bp" : "zil", epochs: o.epochs, batchSize: o.batchSize, seed: o.seed,
            optimizer: { kind: "adam", learningRate: backpropRate }, onEpoch,
          });
        } finally {
          graph.dispose();
        }
      } else {
        const common: PCGraphFitOptions = {
          epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, optimizer: { kind: "adam", learningRate: energyBasedSettings.learningRate }, onEpoch,
        };
        let net: PCGraph;
        let options: PCGraphFitOptions;
        const s = energyBasedSettings;
        if (method === "nudged PC") {
          const p = nudgedPCSettings;
          net = new PCGraph(hierarchical([["sensory", features], ["hidden", o.hidden, "tanh"], ["label", classes]]), { seed: o.seed, energy: nudgedPCEnergy("label") });
          options = {
            ...common, algorithm: "eqprop", optimizer: { kind: "adam", learningRate: p.learningRate }, steps: p.steps, gamma: p.gamma, tolerance: 1e-3,
            equilibrium: { beta: p.beta, nudging: "one-sided", onWarning: () => void unconverged++ },
            // classification: the feedforward pass (the free fixed point of the PC energy with the output free)
            evaluation: { steps: 0 },
          };
        } else {
          net = new EnergyBasedNetwork(layeredNetwork([features, o.hidden, classes]), { seed: o.seed });
          options = {
            ...common, algorithm: method === "CHL" ? "chl" : "eqprop", steps: s.steps, gamma: s.gamma, tolerance: 1e-3,
            equilibrium: method === "CHL"
              ? { clamp: "full", second: { steps: s.secondSteps }, onWarning: () => void unconverged++ }
              : { beta: s.beta, nudging: "symmetric", second: { steps: s.secondSteps }, onWarning: () => void unconverged++ },
            evaluation: { steps: 2 * s.steps, gamma: s.gamma, tolerance: 1e-3 },
          };
        }
        try {
          await net.fit(data, options);
        } finally {
          net.dispose();
        }
      }
      rows.push({ dataset: data.key, method, accuracy: accuracies[accuracies.length - 1], accuracies, secondsPerEpoch: median(seconds), unconverged });
    }
  }
  const markdown = o.datasets.map((data) => [
    `${data.name} (${data.note}), 784-${o.hidden}-10, ${o.epochs} epochs, batch ${o.batchSize}, Adam, seed ${o.seed}:`, "",
    markdownTable(["method", "test accuracy", "best epoch", "seconds per epoch (median)", "phases above tolerance"],
      rows.filter((r) => r.dataset === data.key).map((r) => [
        r.method, `${(100 * r.accuracy).toFixed(2)}%`, `${(100 * Math.max(...r.accuracies)).toFixed(2)}%`, r.secondsPerEpoch.toFixed(2),
        r.method === "Z-IL" || r.method === "BP" ? "-" : String(r.unconverged),
      ])),
  ].join("\n")).join("\n\n");
  return { rows, markdown };
}

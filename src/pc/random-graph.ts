// Random graphs for the proof suite and `pcgraph verify`: MLPs and DAGs with skip
// connections of unequal path lengths, fan-in and fan-out, gating, concatenation and shared
// weights; CNNs with pooling and residual convolutions; unrolled RNNs; both losses.
//
// The generator reads its choices from a `Draw`, so the same code runs on a seeded PRNG
// (verify) and under fast-check's `fc.gen()` (tests), where a failing graph shrinks.
import { GraphBuilder, type NodeRef } from "../graph/builder.js";
import type { Graph, GraphSpec } from "../graph/graph.js";
import type { LossName } from "../graph/loss.js";
import type { ActivationName } from "../graph/ops/activation.js";
import { Random } from "../random.js";
import { tensor, type Tensor } from "../tensor.js";

/** A source of integers for `randomGraph`: fast-check's generator in tests, a `Random` elsewhere. */
export interface Draw {
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
}

export function pick<T>(draw: Draw, items: readonly T[]): T {
  return items[draw.int(0, items.length - 1)];
}

/** A `Draw` backed by a seeded `Random`. */
export function drawFromRandom(random: Random): Draw {
  return { int: (min, max) => min + random.int(max - min + 1) };
}

/** A drawn graph: its spec, its family, the batch size and the seed for weights and data. */
export interface RandomGraph {
  spec: GraphSpec;
  family: "dag" | "cnn" | "rnn";
  batch: number;
  /** Seed for weights and data. */
  seed: number;
}

// Activations that keep values bounded enough for f32 comparisons; exp and log appear in
// safe compositions below (exp of a tanh, log of a sigmoid).
const activations: ActivationName[] = ["relu", "leakyRelu", "tanh", "sigmoid", "softplus", "gelu"];

interface Vec {
  ref: NodeRef;
  width: number;
}

function activation(g: GraphBuilder, draw: Draw, x: NodeRef): NodeRef {
  const kind = draw.int(0, activations.length + 1);
  if (kind === activations.length) return g.exp(g.tanh(x));
  if (kind === activations.length + 1) return g.log(g.sigmoid(x));
  const fn = activations[kind];
  return fn === "leakyRelu" ? g.leakyRelu(x, 0.1) : g.activation(fn, x);
}

/** A chain of `depth` blocks over vectors, each optionally reaching back to an earlier node. */
function dagBody(g: GraphBuilder, draw: Draw, start: Vec, depth: number): Vec {
  const seen: Vec[] = [start];
  let last = start;
  const sharable: { ref: NodeRef; inWidth: number; width: number }[] = [];
  for (let layer = 0; layer < depth; layer++) {
    const earlier = seen[draw.int(0, seen.length - 1)];
    const kind = draw.int(0, 6);
    if (kind === 0 || kind === 1) {
      const width = draw.int(1, 7);
      const ref = g.dense(last.ref, width);
      sharable.push({ ref, inWidth: last.width, width });
      last = { ref: activation(g, draw, ref), width };
    } else if (kind === 2) {
      // Skip connection: the earlier node's path to here is shorter than the chain's.
      const projected = g.dense(earlier.ref, last.width);
      last = { ref: g.add([last.ref, projected]), width: last.width };
    } else if (kind === 3) {
      // Gating by a function of an earlier node (fan-in of two paths of different lengths).
      const gate = g.sigmoid(g.dense(earlier.ref, last.width));
      last = { ref: g.mul(last.ref, gate), width: last.width };
    } else if (kind === 4) {
      last = { ref: g.concat([last.ref, earlier.ref]), width: last.width + earlier.width };
    } else if (kind === 5) {
      // Weight sharing: reuse an earlier dense layer whose shapes fit, else make one to reuse twice.
      const fit = sharable.find((s) => s.inWidth === last.width && s.inWidth === s.width);
      if (fit) last = { ref: g.tanh(g.dense(last.ref, fit.width, { shareWith: fit.ref })), width: fit.width };
      else {
        const first = g.dense(last.ref, last.width);
        sharable.push({ ref: first, inWidth: last.width, width: last.width });
        const mid = g.tanh(first);
        last = { ref: g.dense(mid, last.width, { shareWith: first }), width: last.width };
      }
    } else {
      // Fan-out: one node feeds two branches that meet again.
      const a = g.tanh(g.dense(last.ref, last.width));
      const b = g.dense(last.ref, last.width);
      last = { ref: g.add([a, b, last.ref]), width: last.width };
    }
    seen.push(last);
  }
  return last;
}

function dag(g: GraphBuilder, draw: Draw, depth: number): NodeRef {
  const width = draw.int(1, 6);
  const x = g.input([width], "x");
  return dagBody(g, draw, { ref: x, width }, depth).ref;
}

function cnn(g: GraphBuilder, draw: Draw, depth: number): NodeRef {
  const channels = draw.int(1, 3);
  const size = draw.int(5, 9);
  let x = g.input([channels, size, size], "x");
  let c = channels;
  let h = size;
  const blocks = Math.max(1, Math.min(3, Math.ceil(depth / 3)));
  for (let b = 0; b < blocks && h >= 3; b++) {
    const filters = draw.int(1, 4);
    const kind = draw.int(0, 3);
    if (kind === 0) {
      // Residual block: conv(same) -> act -> conv(same), added to a 1x1 projection of the input.
      const first = g.conv2d(x, filters, 3, { padding: "same" });
      const second = g.conv2d(activation(g, draw, first), filters, 3, { padding: "same" });
      const projection = g.conv2d(x, filters, 1);
      x = g.add([second, projection]);
    } else {
      const kernel = draw.int(1, Math.min(3, h));
      const stride = draw.int(1, 2);
      const dilation = kernel > 1 && h >= 2 * kernel + 1 && draw.int(0, 3) === 0 ? 2 : 1;
      const groups = c % 2 === 0 && filters % 2 === 0 && draw.int(0, 1) === 1 ? 2 : 1;
      const padding = draw.int(0, Math.floor(kernel / 2));
      x = activation(g, draw, g.conv2d(x, filters, kernel, { strides: stride, padding, dilation, groups }));
      h = Math.floor((h + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
    }
    c = filters;
    if (h >= 2 && draw.int(0, 2) > 0) {
      const window = draw.int(1, Math.min(3, h));
      x = draw.int(0, 1) === 0 ? g.maxPool2d(x, window) : g.avgPool2d(x, window);
      h = Math.floor((h - window) / window) + 1;
    }
  }
  const flat = g.flatten(x);
  return dagBody(g, draw, { ref: flat, width: c * h * h }, Math.max(0, depth - 3 * blocks)).ref;
}

function rnn(g: GraphBuilder, draw: Draw, depth: number): NodeRef {
  const steps = draw.int(1, Math.max(1, Math.min(6, depth)));
  const features = draw.int(1, 4);
  const units = draw.int(1, 6);
  const sequence = g.input([steps, features], "sequence");
  const hidden = g.rnn(sequence, units, steps, { activation: pick(draw, ["tanh", "sigmoid", "relu"] as const) });
  return draw.int(0, 1) === 0 ? hidden : g.tanh(g.dense(hidden, draw.int(1, 6)));
}

/** Draws one graph; `maxDepth` bounds the number of blocks (1-12 in the suite). */
export function randomGraph(draw: Draw, maxDepth = 12): RandomGraph {
  const family = pick(draw, ["dag", "dag", "cnn", "rnn"] as const);
  const depth = draw.int(1, maxDepth);
  const loss: LossName = pick(draw, ["mse", "softmaxCrossEntropy"] as const);
  const g = new GraphBuilder();
  const body = family === "dag" ? dag(g, draw, depth) : family === "cnn" ? cnn(g, draw, depth) : rnn(g, draw, depth);
  const classes = draw.int(loss === "mse" ? 1 : 2, 5);
  const output = g.dense(body, classes, { name: "output" });
  const batch = pick(draw, [1, 2, 3, 5, 8, 16, 32]);
  return { spec: g.toSpec(output, loss), family, batch, seed: draw.int(0, 1_000_000) };
}

/** Random inputs in [-1, 1] and a target (one-hot classes for cross-entropy, values in [-1, 1] for MSE). */
export function randomBatch(graph: Graph, batch: number, seed: number): { inputs: Record<string, Tensor>; target: Tensor } {
  const random = new Random(seed);
  const inputs: Record<string, Tensor> = {};
  for (const input of graph.inputs) {
    const values = Float64Array.from({ length: batch * input.size }, () => random.uniform(-1, 1));
    inputs[input.name] = tensor(values, [batch, ...input.shape], { backend: graph.backend });
  }
  const classes = graph.output.size;
  const target = new Float64Array(batch * classes);
  for (let b = 0; b < batch; b++) {
    if (graph.loss === "softmaxCrossEntropy") target[b * classes + random.int(classes)] = 1;
    else for (let j = 0; j < classes; j++) target[b * classes + j] = random.uniform(-1, 1);
  }
  return { inputs, target: tensor(target, [batch, classes], { backend: graph.backend }) };
}

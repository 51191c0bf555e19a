// The feedback decoders of a Predify config written as graph nodes: for each pcoder, a
// transposed convolution (or a dense layer) from its representation onto the shape of the
// node it predicts, optionally followed by an activation. They become ordinary nodes of one
// graph with the feedforward network, so checkpoints, serialisation and the optimizers
// handle them like any other parameters.
import type { Graph, GraphNode, GraphSpec, NodeSpec } from "../graph/graph.js";
import type { Shape } from "../tensor.js";
import { formatShape, sizeOf } from "../tensor.js";
import { activationNames, type ActivationName } from "../graph/ops/activation.js";
import {
  PredifyConfigError, pcoderName, type ConvTransposeDecoderConfig, type DecoderConfig, type PcoderConfig, type PredifyConfig, type SizePair,
} from "./predify-config.js";

const pairOf = (v: SizePair | undefined): [number, number] | undefined =>
  v === undefined ? undefined : typeof v === "number" ? [v, v] : [v[0], v[1]];

/**
 * Strides, padding and output padding that make a transposed convolution map `rep`'s
 * spatial size onto `target`'s: H = (h - 1) s - 2 p + d (k - 1) + 1 + op with 0 <= op < s.
 * Given values are kept; omitted ones are chosen (stride round(H / h), then the smallest
 * padding and output padding that fit). Null when nothing fits.
 */
export function fitTransposedConv(rep: Shape, target: Shape, d: ConvTransposeDecoderConfig):
  { strides: [number, number]; padding: [number, number]; outputPadding: [number, number] } | null {
  const kernel = pairOf(d.kernelSize)!;
  const dilation = pairOf(d.dilation) ?? [1, 1];
  const strides = pairOf(d.strides);
  const padding = pairOf(d.padding);
  const outputPadding = pairOf(d.outputPadding);
  const fit: { strides: [number, number]; padding: [number, number]; outputPadding: [number, number] } = {
    strides: [1, 1], padding: [0, 0], outputPadding: [0, 0],
  };
  for (const axis of [0, 1] as const) {
    const h = rep[axis + 1];
    const H = target[axis + 1];
    const s = strides?.[axis] ?? Math.max(1, Math.round(H / h));
    const reach = (h - 1) * s + dilation[axis] * (kernel[axis] - 1) + 1;
    let found = false;
    for (let p = padding?.[axis] ?? 0; !found && p <= (padding?.[axis] ?? reach); p++)
      for (let op = outputPadding?.[axis] ?? 0; !found && op <= (outputPadding?.[axis] ?? s - 1); op++)
        if (op < s && reach - 2 * p + op === H) {
          fit.strides[axis] = s;
          fit.padding[axis] = p;
          fit.outputPadding[axis] = op;
          found = true;
        }
    if (!found) return null;
  }
  return fit;
}

/** The node specs of pcoder i's decoder, from its representation to the prediction of its target. */
export function decoderNodes(config: PredifyConfig, i: number, rep: GraphNode, target: GraphNode): NodeSpec[] {
  const pcoder = config.pcoders[i];
  const name = pcoderName(config, i);
  const d = pcoder.decoder;
  const field = `pcoders[${i}].decoder`;
  const nodes: NodeSpec[] = [];
  let last = rep.name;
  let shape: Shape = rep.shape;
  const push = (suffix: string, op: string, attrs: Record<string, unknown>, outShape: Shape) => {
    const nodeName = suffix ? `${name}.decoder.${suffix}` : `${name}.decoder`;
    nodes.push({ name: nodeName, op, inputs: [last], attrs });
    last = nodeName;
    shape = outShape;
  };
  if (d.kind === "conv2dTranspose") {
    if (rep.shape.length !== 3 || target.shape.length !== 3)
      throw new PredifyConfigError(`${field}.kind`,
        `a conv2dTranspose decoder maps [channels, height, width] onto [channels, height, width]; node "${rep.name}" is ` +
        `${formatShape(rep.shape)} and target "${target.name}" is ${formatShape(target.shape)} (use a dense decoder)`);
    const fit = fitTransposedConv(rep.shape, target.shape, d);
    if (!fit) {
      const given = JSON.stringify({ kernelSize: d.kernelSize, strides: d.strides, padding: d.padding, outputPadding: d.outputPadding, dilation: d.dilation });
      throw new PredifyConfigError(field,
        `no transposed convolution with ${given} maps node "${rep.name}" ${formatShape(rep.shape)} onto the target "${target.name}" ` +
        `${formatShape(target.shape)} (the output is (h - 1) stride - 2 padding + dilation (kernel - 1) + 1 + outputPadding, outputPadding < stride)`);
    }
    push("", "conv2dTranspose", {
      filters: target.shape[0], kernelSize: pairOf(d.kernelSize), ...fit, dilation: pairOf(d.dilation) ?? [1, 1], groups: 1,
      useBias: d.useBias ?? true, kernelInit: "heUniform", biasInit: "zeros",
    }, [target.shape[0], target.shape[1], target.shape[2]]);
  } else {
    if (rep.shape.length !== 1) push("flatten", "reshape", { shape: [-1] }, [rep.size]);
    push("", "dense", { units: target.size, useBias: d.useBias ?? true, kernelInit: "glorotUniform", biasInit: "zeros" }, [target.size]);
  }
  if (d.activation) push(d.activation, d.activation, d.activation === "leakyRelu" ? { slope: 0.01 } : {}, shape);
  if (formatShape(shape) !== formatShape(target.shape)) push("reshape", "reshape", { shape: [...target.shape] }, target.shape);
  if (sizeOf(shape) !== target.size) throw new PredifyConfigError(field, `predicts ${formatShape(shape)}, the target "${target.name}" is ${formatShape(target.shape)}`);
  return nodes;
}

const sameNode = (a: NodeSpec, b: NodeSpec) =>
  a.op === b.op && JSON.stringify(a.inputs ?? []) === JSON.stringify(b.inputs ?? []) && JSON.stringify(a.attrs ?? {}) === JSON.stringify(b.attrs ?? {});

/**
 * The graph's spec plus every decoder node the config asks for, and each pcoder's decoder
 * node names in order. Decoder nodes the graph already holds (a predified graph loaded from
 * a checkpoint) must match and are kept with their weights; `lookup` resolves a config's
 * node names in the graph.
 */
export function predifiedSpec(graph: Graph, config: PredifyConfig, lookup: (field: string, name: string) => GraphNode):
  { spec: GraphSpec; decoders: string[][] } {
  const spec = structuredClone(graph.spec);
  const existing = new Map(spec.nodes.map((n) => [n.name, n]));
  const decoders = config.pcoders.map((p, i) => {
    const rep = lookup(`pcoders[${i}].node`, p.node);
    const target = lookup(`pcoders[${i}].target`, p.target);
    const nodes = decoderNodes(config, i, rep, target);
    for (const node of nodes) {
      const present = existing.get(node.name);
      if (present && !sameNode(present, node))
        throw new PredifyConfigError(`pcoders[${i}].name`,
          `the graph already has a node "${node.name}" that is not this decoder (${present.op} of ${JSON.stringify(present.inputs ?? [])}); choose another name`);
      if (!present) {
        spec.nodes.push(node);
        existing.set(node.name, node);
      }
    }
    return nodes.map((n) => n.name);
  });
  return { spec, decoders };
}

/**
 * A config for a plain feedforward network: a pcoder at the output of every convolution's
 * activation (or every hidden dense layer's, when there is no convolution), each predicting
 * the previous one's (the first: the input) with a transposed convolution of the layer's
 * kernel size or the next that fits (dense decoders for dense layers), and relu on the
 * decoder when the predicted values come from a relu, as in the reference models.
 */
export function suggestPcoders(graph: Graph): PcoderConfig[] {
  const layer = (kind: string) => graph.nodes.filter((n) => n.kind === kind && n !== graph.output);
  const convs = layer("conv2d");
  const layers = convs.length > 0 ? convs : layer("dense");
  const pcoders: PcoderConfig[] = [];
  let below: GraphNode | undefined = graph.inputs[0];
  for (const node of layers) {
    const only = node.children.length === 1 ? node.children[0] : undefined;
    const rep = only && activationNames.includes(only.kind as ActivationName) ? only : node;
    if (!below || rep === graph.output) continue;
    const activation = below.kind === "relu" ? ("relu" as const) : undefined;
    let decoder: DecoderConfig = { kind: "dense", ...(activation ? { activation } : {}) };
    if (node.kind === "conv2d" && below.shape.length === 3) {
      const kernel = Math.max(...(node.op!.attrs as { kernelSize: [number, number] }).kernelSize);
      for (let k = kernel; k <= kernel + 4; k++) {
        const conv: ConvTransposeDecoderConfig = { kind: "conv2dTranspose", kernelSize: k, ...(activation ? { activation } : {}) };
        if (fitTransposedConv(rep.shape, below.shape, conv)) {
          decoder = conv;
          break;
        }
      }
    }
    pcoders.push({ node: rep.name, target: below.name, decoder });
    below = rep;
  }
  return pcoders;
}

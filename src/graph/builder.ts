// A typed builder that writes a GraphSpec: `const x = g.input([784]); const h = g.relu(g.dense(x, 256))`.
// Each method returns a handle to the new node; `build` validates everything and
// initialises the parameters.
import { GraphError } from "./errors.js";
import { Graph, type BuildOptions, type GraphSpec, type NodeSpec } from "./graph.js";
import type { LossName } from "./loss.js";
import type { InitializerName } from "./op.js";
import type { ActivationName } from "./ops/activation.js";

/** A handle to a node being built. */
export interface NodeRef {
  readonly name: string;
  readonly builder: GraphBuilder;
}

/** A size per spatial axis: one number for both (height and width), or [height, width]. */
export type Pair = number | [number, number];

/** Options of `GraphBuilder.dense`: a node name, the bias, initialisers, weight sharing. */
export interface DenseOptions {
  name?: string;
  useBias?: boolean;
  kernelInit?: InitializerName;
  biasInit?: InitializerName;
  /** Reuse the weights of this dense node (weight sharing). */
  shareWith?: NodeRef;
}

/** Options of `GraphBuilder.conv2d`: strides, padding, dilation, groups, bias, initialisers, weight sharing. */
export interface Conv2dOptions {
  name?: string;
  strides?: Pair;
  /** Zero padding per side, or "same" (odd kernels, stride 1) / "valid". */
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
  groups?: number;
  useBias?: boolean;
  kernelInit?: InitializerName;
  biasInit?: InitializerName;
  shareWith?: NodeRef;
}

/** Options of `GraphBuilder.conv2dTranspose`: strides, padding, output padding, dilation, groups, bias, initialisers, weight sharing. */
export interface Conv2dTransposeOptions {
  name?: string;
  strides?: Pair;
  padding?: Pair;
  /** Extra output rows and columns at the bottom and right (each below the stride). */
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  useBias?: boolean;
  kernelInit?: InitializerName;
  biasInit?: InitializerName;
  shareWith?: NodeRef;
}

/** Options of max and average pooling: strides (default: the window) and zero padding per side. */
export interface PoolOptions {
  name?: string;
  /** Defaults to the window size. */
  strides?: Pair;
  padding?: Pair;
}

/** Options of `GraphBuilder.rnn`: a name prefix and the activation (default tanh). */
export interface RnnOptions {
  name?: string;
  activation?: ActivationName;
}

const toPair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

/**
 * Builds a graph node by node: each method adds one node and returns a reference to it;
 * `build` checks every shape and returns the `Graph`. Names are made unique automatically
 * unless given.
 *
 * ```ts
 * const g = new GraphBuilder();
 * const x = g.input([784], "x");
 * const y = g.dense(g.relu(g.dense(x, 256)), 10);
 * const graph = g.build({ output: y, loss: "softmaxCrossEntropy", seed: 1 });
 * ```
 */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly counters = new Map<string, number>();

  private ref(name: string): NodeRef {
    return { name, builder: this };
  }

  private unique(kind: string, name?: string): string {
    if (name !== undefined) return name;
    let n = this.counters.get(kind) ?? 0;
    let candidate: string;
    do candidate = `${kind}${++n}`;
    while (this.nodes.some((s) => s.name === candidate));
    this.counters.set(kind, n);
    return candidate;
  }

  private own(ref: NodeRef, user: string): string {
    if (!ref || ref.builder !== this) throw new GraphError(user, `parent ${JSON.stringify(ref?.name)} belongs to another builder`);
    return ref.name;
  }

  /** Adds a node of any registered op kind. */
  node(op: string, inputs: NodeRef[], attrs: Record<string, unknown> = {}, options: { name?: string; shareWith?: NodeRef } = {}): NodeRef {
    const name = this.unique(op, options.name);
    this.nodes.push({
      name,
      op,
      inputs: inputs.map((r) => this.own(r, name)),
      attrs,
      ...(options.shareWith ? { shareParamsWith: this.own(options.shareWith, name) } : {}),
    });
    return this.ref(name);
  }

  /** An input clamped to data; `shape` excludes the batch axis. */
  input(shape: number[], name?: string): NodeRef {
    const n = this.unique("input", name);
    this.nodes.push({ name: n, op: "input", shape: [...shape] });
    return this.ref(n);
  }

  /** Dense layer over one input, or over several with one weight each (summed). */
  dense(input: NodeRef | NodeRef[], units: number, o: DenseOptions = {}): NodeRef {
    const attrs = { units, useBias: o.useBias ?? true, kernelInit: o.kernelInit ?? "glorotUniform", biasInit: o.biasInit ?? "zeros" };
    return this.node("dense", Array.isArray(input) ? input : [input], attrs, o);
  }

  /** 2-D convolution (NCHW, weights [filters, inChannels/groups, kH, kW]) with a bias per filter. */
  conv2d(input: NodeRef, filters: number, kernelSize: Pair, o: Conv2dOptions = {}): NodeRef {
    const kernel = toPair(kernelSize);
    const dilation = toPair(o.dilation ?? 1);
    let padding: [number, number];
    if (o.padding === "same") padding = [((kernel[0] - 1) * dilation[0]) / 2, ((kernel[1] - 1) * dilation[1]) / 2];
    else if (o.padding === "valid" || o.padding === undefined) padding = [0, 0];
    else padding = toPair(o.padding);
    const attrs = {
      filters, kernelSize: kernel, strides: toPair(o.strides ?? 1), padding, dilation, groups: o.groups ?? 1,
      useBias: o.useBias ?? true, kernelInit: o.kernelInit ?? "heUniform", biasInit: o.biasInit ?? "zeros",
    };
    return this.node("conv2d", [input], attrs, o);
  }

  /** Transposed convolution (the adjoint of conv2d): upsamples by the stride. */
  conv2dTranspose(input: NodeRef, filters: number, kernelSize: Pair, o: Conv2dTransposeOptions = {}): NodeRef {
    const attrs = {
      filters, kernelSize: toPair(kernelSize), strides: toPair(o.strides ?? 1), padding: toPair(o.padding ?? 0),
      outputPadding: toPair(o.outputPadding ?? 0), dilation: toPair(o.dilation ?? 1), groups: o.groups ?? 1,
      useBias: o.useBias ?? true, kernelInit: o.kernelInit ?? "heUniform", biasInit: o.biasInit ?? "zeros",
    };
    return this.node("conv2dTranspose", [input], attrs, o);
  }

  /** Max over each window; the gradient goes to the first maximum of the window. */
  maxPool2d(input: NodeRef, kernelSize: Pair, o: PoolOptions = {}): NodeRef {
    return this.node("maxPool2d", [input], { kernelSize: toPair(kernelSize), strides: toPair(o.strides ?? kernelSize), padding: toPair(o.padding ?? 0) }, o);
  }

  /** Mean over each window, divided by the window size (padding counts as zeros). */
  avgPool2d(input: NodeRef, kernelSize: Pair, o: PoolOptions = {}): NodeRef {
    return this.node("avgPool2d", [input], { kernelSize: toPair(kernelSize), strides: toPair(o.strides ?? kernelSize), padding: toPair(o.padding ?? 0) }, o);
  }

  /** An elementwise activation by name (`leakyRelu` takes its negative slope in `o.slope`). */
  activation(fn: ActivationName, input: NodeRef, o: { name?: string; slope?: number } = {}): NodeRef {
    return this.node(fn, [input], fn === "leakyRelu" ? { slope: o.slope ?? 0.01 } : {}, o);
  }
  /** max(x, 0) */
  relu(input: NodeRef, name?: string): NodeRef { return this.activation("relu", input, { name }); }
  /** x for x > 0, slope * x otherwise. */
  leakyRelu(input: NodeRef, slope = 0.01, name?: string): NodeRef { return this.activation("leakyRelu", input, { name, slope }); }
  /** tanh(x) */
  tanh(input: NodeRef, name?: string): NodeRef { return this.activation("tanh", input, { name }); }
  /** 1 / (1 + exp(-x)) */
  sigmoid(input: NodeRef, name?: string): NodeRef { return this.activation("sigmoid", input, { name }); }
  /** log(1 + exp(x)) */
  softplus(input: NodeRef, name?: string): NodeRef { return this.activation("softplus", input, { name }); }
  /** GELU in its tanh form (Hendrycks & Gimpel 2016). */
  gelu(input: NodeRef, name?: string): NodeRef { return this.activation("gelu", input, { name }); }
  /** exp(x) */
  exp(input: NodeRef, name?: string): NodeRef { return this.activation("exp", input, { name }); }
  /** Natural logarithm (inputs must be positive). */
  log(input: NodeRef, name?: string): NodeRef { return this.activation("log", input, { name }); }

  /** Elementwise sum: residual and skip connections. */
  add(inputs: NodeRef[], name?: string): NodeRef { return this.node("add", inputs, {}, { name }); }
  /** Elementwise product (gating). */
  mul(a: NodeRef, b: NodeRef, name?: string): NodeRef { return this.node("mul", [a, b], {}, { name }); }
  /** Concatenation along a per-sample axis (0 = the first axis after the batch). */
  concat(inputs: NodeRef[], axis = 0, name?: string): NodeRef { return this.node("concat", inputs, { axis }, { name }); }
  /** The same data in another per-sample shape (one dimension may be -1). */
  reshape(input: NodeRef, shape: number[], name?: string): NodeRef { return this.node("reshape", [input], { shape }, { name }); }
  /** Reshape to a vector per sample. */
  flatten(input: NodeRef, name?: string): NodeRef {
    return this.node("reshape", [input], { shape: [-1] }, { name: name ?? this.unique("flatten") });
  }
  /** mu = x: a node that passes its input on unchanged. */
  identity(input: NodeRef, name?: string): NodeRef { return this.node("identity", [input], {}, { name }); }
  /** `size` entries from `begin` along a per-sample `axis`; `squeeze` drops that axis when size is 1. */
  slice(input: NodeRef, axis: number, begin: number, size: number, o: { name?: string; squeeze?: boolean } = {}): NodeRef {
    return this.node("slice", [input], { axis, begin, size, squeeze: o.squeeze ?? false }, o);
  }

  /**
   * A many-to-one recurrent network unrolled over the T steps of `sequence` ([T, features]
   * per sample): h_t = act(x_t W_x + h_{t-1} W_h + b), with W_x, W_h and b shared by all
   * steps (h_{-1} = 0, so step 0 is x_0 W_x + b). Returns h_{T-1}.
   */
  rnn(sequence: NodeRef, units: number, steps: number, o: RnnOptions = {}): NodeRef {
    const base = this.unique("rnn", o.name);
    const act = o.activation ?? "tanh";
    let hidden: NodeRef | undefined;
    for (let t = 0; t < steps; t++) {
      const xt = this.slice(sequence, 0, t, 1, { name: `${base}.x${t}`, squeeze: true });
      const name = `${base}.pre${t}`;
      const attrs = { units, useBias: true, kernelInit: "glorotUniform", biasInit: "zeros" };
      if (t === 0) this.node("dense", [xt], attrs, { name });
      else {
        // Step 1 shares W_x and b with step 0 and creates W_h; later steps share all three with step 1.
        const share = t === 1 ? { node: `${base}.pre0`, roles: { weight0: "weight", bias: "bias" } } : `${base}.pre1`;
        this.nodes.push({ name, op: "dense", inputs: [xt.name, hidden!.name], attrs, shareParamsWith: share });
      }
      hidden = this.activation(act, this.ref(name), { name: `${base}.h${t}` });
    }
    return hidden!;
  }

  /** The spec written so far (a copy). */
  toSpec(output: NodeRef, loss: LossName): GraphSpec {
    return structuredClone({ nodes: this.nodes, output: this.own(output, "output"), loss });
  }

  /** Checks the graph (shapes, names, one output) and creates its parameters from `options.seed`. */
  build(options: BuildOptions & { output: NodeRef; loss: LossName }): Graph {
    return new Graph(this.toSpec(options.output, options.loss), options);
  }
}

/** Shorthand for MLPs and CNNs: layers applied one after another to one input. */
export type Layer = (g: GraphBuilder, x: NodeRef) => NodeRef;

/** A graph of `layers` applied in order to one input of `inputShape` (see `layers` for the factories). */
export function sequential(inputShape: number[], layers: Layer[], options: BuildOptions & { loss: LossName }): Graph {
  const g = new GraphBuilder();
  let x = g.input(inputShape, "input");
  for (const layer of layers) x = layer(g, x);
  return g.build({ ...options, output: x });
}

/** Layer factories for `sequential`. */
export const layers = {
  /** A dense layer of `units`. */
  dense: (units: number, o: DenseOptions = {}): Layer => (g, x) => g.dense(x, units, o),
  /** A 2-D convolution with `filters` output channels. */
  conv2d: (filters: number, kernelSize: Pair, o: Conv2dOptions = {}): Layer => (g, x) => g.conv2d(x, filters, kernelSize, o),
  /** A transposed convolution with `filters` output channels. */
  conv2dTranspose: (filters: number, kernelSize: Pair, o: Conv2dTransposeOptions = {}): Layer => (g, x) => g.conv2dTranspose(x, filters, kernelSize, o),
  /** Max pooling over windows of `kernelSize`. */
  maxPool2d: (kernelSize: Pair, o: PoolOptions = {}): Layer => (g, x) => g.maxPool2d(x, kernelSize, o),
  /** Average pooling over windows of `kernelSize`. */
  avgPool2d: (kernelSize: Pair, o: PoolOptions = {}): Layer => (g, x) => g.avgPool2d(x, kernelSize, o),
  /** Reshape to a vector per sample. */
  flatten: (): Layer => (g, x) => g.flatten(x),
  /** An activation by name. */
  activation: (fn: ActivationName, slope?: number): Layer => (g, x) => g.activation(fn, x, { slope }),
  /** ReLU. */
  relu: (): Layer => (g, x) => g.relu(x),
  /** tanh. */
  tanh: (): Layer => (g, x) => g.tanh(x),
  /** The logistic sigmoid. */
  sigmoid: (): Layer => (g, x) => g.sigmoid(x),
  /** GELU (tanh form). */
  gelu: (): Layer => (g, x) => g.gelu(x),
};

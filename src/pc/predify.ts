// Predify (Choksi, Mozafari et al. 2021, arXiv 2106.02749): predictive-coding feedback on a
// trained feedforward network, as a schedule over the vertices of the PC core.
//
// At chosen vertices ("pcoders") the value units hold a representation r that is no longer
// just the feedforward drive. Each pcoder has a decoder, a chain of decoder vertices whose
// last prediction mu = dec(r) predicts the value units of a vertex below (its target; the
// first pcoder predicts the input). That decoder vertex's value units are clamped to the
// target's, so its error units are e = x_target - dec(r), and the reconstruction energy is
//
//   E = sum over pcoders i of  1/n_i |e_i|^2      (per sample: the mean squared error)
//
// with n_i the target's size. Time step 0 is the feedforward pass (r_0 = ff). Then each
// step t >= 1 sweeps the network in topological order, and at a pcoder
//
//   r_t = beta ff_t + lambda fb_{t-1} + (1 - beta - lambda) r_{t-1} - alpha dE_i/dr (at t-1)
//
// where ff_t is the vertex's prediction from its parents' values at step t (so the update
// of a lower pcoder reaches the ones above within the step), fb_{t-1} the prediction of the
// pcoder above (whose decoder predicts this vertex) from step t-1, and the gradient
//
//   dE_i/dr = -(2/n_i) J_dec^T e_i
//
// is the PC feedback of the decoder vertex (J^T of the child's error, from the decoder ops'
// own input derivatives). Pcoders that no decoder predicts take lambda = 0. This is the
// reference implementation's update (predify/modules/base.py, PCoder.forward), with its MSE
// averaged per sample (the reference also averages over the batch, which makes its alpha
// depend on the batch size; ours equals it at batch size 1).
import { InvalidArgumentError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import type { BackendName } from "../backend/load.js";
import { resolveFeeds, type Feeds } from "../graph/forward.js";
import { Graph, type GraphNode, type Parameter } from "../graph/graph.js";
import { Tensor } from "../tensor.js";
import { ParameterAccumulator } from "./dynamics.js";
import { PCNetwork, type Vertex } from "./network.js";
import { checkPredifyConfig, pcoderName, pcoderRates, PredifyConfigError, predifyDefaults, type PcoderRates, type PredifyConfig } from "./predify-config.js";
import { predifiedSpec } from "./predify-decoders.js";
import { PCState } from "./state.js";

/** One pcoder of a predified network: the vertex whose representation it holds, its decoder and its rates. */
export interface Pcoder {
  readonly name: string;
  /** Position in the config's list. */
  readonly index: number;
  /** The vertex whose value units hold the representation r. */
  readonly vertex: Vertex;
  /** The vertex whose values the decoder predicts. */
  readonly target: Vertex;
  /** Decoder vertices, from the one reading r to the one predicting the target. */
  readonly decoder: readonly Vertex[];
  /** The pcoder above whose decoder predicts this one's vertex (its feedback), if any. */
  readonly feedbackFrom: Pcoder | null;
  /** n: values of the target per sample (the MSE's denominator). */
  readonly targetSize: number;
  /** The decoder's parameters. */
  readonly parameters: readonly Parameter[];
  /** Current rates; lambda is 0 without feedback. */
  readonly rates: Readonly<PcoderRates>;
}

/** One time step of a predified network on a batch. */
export interface PredifyStep {
  /** 0 is the feedforward pass. */
  step: number;
  /** The output's values at this step, [batch, ...]. Owned by the network: valid until the next step. */
  prediction: Tensor;
  /** The reconstruction energy: the sum of `reconstructionErrors`. */
  energy: number;
  /** Per pcoder (config order): the mean over the batch of each sample's reconstruction MSE. */
  reconstructionErrors: number[];
}

/** What a Predify run over T time steps returns: the output at every step and the energies. */
export interface PredifyRun {
  /** The output's values at steps 0..T (the caller disposes them). */
  predictions: Tensor[];
  /** Energy at steps 0..T (as PC schedules report energy per step). */
  energies: number[];
  /** reconstructionErrors[t][i]: pcoder i at step t. */
  reconstructionErrors: number[][];
}

/** Where the predified network's decoders and units live. */
export interface PredifyOptions {
  backend?: Backend | BackendName;
}

/** Rate overrides: shared ones, or per pcoder by name. */
export type RateOverrides = Partial<PcoderRates> & { pcoders?: Record<string, Partial<PcoderRates>> };

/** The predified network of `graph` (which is not changed). See the top of this file for the dynamics. */
export function predify(graph: Graph, config: PredifyConfig, options: PredifyOptions = {}): PredifiedNetwork {
  return new PredifiedNetwork(graph, config, options);
}

function rateFields(rates: PcoderRates, field: string): void {
  for (const key of ["beta", "lambda", "alpha"] as const) {
    const v = rates[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (key !== "alpha" && v > 1))
      throw new PredifyConfigError(`${field}${key}`, `must be a number in ${key === "alpha" ? "[0, inf)" : "[0, 1]"}, got ${JSON.stringify(v)}`);
  }
  if (rates.beta + rates.lambda > 1)
    throw new PredifyConfigError(`${field}lambda`, `beta + lambda = ${rates.beta + rates.lambda} exceeds 1 (the memory weight 1 - beta - lambda would be negative)`);
}

/**
 * A trained feedforward graph with Predify's feedback: decoders at the chosen pcoders and the
 * time-step schedule over the PC core's vertices (see the file comment for the update rule).
 */
export class PredifiedNetwork {
  /** The feedforward graph plus the decoders (owned by this network). */
  readonly graph: Graph;
  readonly network: PCNetwork;
  readonly pcoders: readonly Pcoder[];
  readonly config: PredifyConfig;
  /** Every decoder parameter: what decoder training updates (the rest stays frozen). */
  readonly decoderParameters: readonly Parameter[];
  /** Vertices computed by the sweep of each step, in topological order (no decoders). */
  private readonly sweep: Vertex[];
  private readonly pcoderOf = new Map<Vertex, Pcoder>();
  private state: PCState | null = null;
  private gradients: Tensor[] = [];
  private stream = 0;
  private accumulator: ParameterAccumulator | null = null;
  private readonly decoderGradients = new Map<string, Tensor>();

  constructor(backbone: Graph, config: PredifyConfig, options: PredifyOptions = {}) {
    this.config = checkPredifyConfig(config);
    const lookup = (field: string, name: string): GraphNode => {
      const node = backbone.nodes.find((n) => n.name === name);
      if (!node) throw new PredifyConfigError(field, `the graph has no node "${name}"`);
      return node;
    };
    this.config.pcoders.forEach((p, i) => {
      const node = lookup(`pcoders[${i}].node`, p.node);
      const target = lookup(`pcoders[${i}].target`, p.target);
      if (node.isInput) throw new PredifyConfigError(`pcoders[${i}].node`, `"${p.node}" is an input: its values are the data and do not change`);
      if (!feeds(target, node))
        throw new PredifyConfigError(`pcoders[${i}].target`, `"${p.target}" is not below "${p.node}": a decoder predicts a node that feeds (directly or not) the pcoder's node`);
    });
    const { spec, decoders } = predifiedSpec(backbone, this.config, lookup);
    const graph = new Graph(spec, { seed: this.config.seed ?? predifyDefaults.seed, backend: options.backend ?? backbone.backend });
    try {
      graph.setWeights(backbone.getWeights());
      this.network = new PCNetwork(graph, { relay: false });
      this.pcoders = this.resolvePcoders(decoders);
    } catch (error) {
      graph.dispose();
      throw error;
    }
    this.graph = graph;
    for (const p of this.pcoders) this.pcoderOf.set(p.vertex, p);
    this.decoderParameters = this.pcoders.flatMap((p) => p.parameters);
    this.sweep = this.sweepOrder();
  }

  private vertexOf(name: string): Vertex {
    return this.network.vertices.find((v) => v.node?.name === name)!;
  }

  private resolvePcoders(decoders: string[][]): Pcoder[] {
    const config = this.config;
    const pcoders: (Pcoder & { feedbackFrom: Pcoder | null; rates: PcoderRates })[] = config.pcoders.map((p, i) => {
      const name = pcoderName(config, i);
      const vertex = this.vertexOf(p.node);
      const target = this.vertexOf(p.target);
      const chain = decoders[i].map((n) => this.vertexOf(n));
      const parameters = chain.flatMap((v) => [...v.params]);
      return { name, index: i, vertex, target, decoder: chain, feedbackFrom: null, targetSize: target.size, parameters, rates: pcoderRates(config, i) };
    });
    for (const p of pcoders) {
      const above = pcoders.filter((q) => q.target === p.vertex);
      if (above.length > 1)
        throw new PredifyConfigError(`pcoders[${above[1].index}].target`, `"${above[1].name}" and "${above[0].name}" both predict "${p.vertex.name}": a pcoder takes feedback from one decoder`);
      p.feedbackFrom = above[0] ?? null;
      if (!p.feedbackFrom) {
        if (config.pcoders[p.index].lambda !== undefined && config.pcoders[p.index].lambda! > 0)
          throw new PredifyConfigError(`pcoders[${p.index}].lambda`, `no decoder predicts "${p.vertex.name}", so "${p.name}" has no feedback: lambda must be 0`);
        p.rates = { ...p.rates, lambda: 0 };
      }
    }
    return pcoders;
  }

  /** The vertices the output, the pcoders and their targets depend on, minus decoders. */
  private sweepOrder(): Vertex[] {
    const decoders = new Set(this.pcoders.flatMap((p) => p.decoder));
    const needed = new Set<Vertex>();
    const visit = (v: Vertex) => {
      if (needed.has(v) || decoders.has(v)) return;
      needed.add(v);
      v.parents.forEach(visit);
    };
    visit(this.network.output);
    for (const p of this.pcoders) {
      visit(p.vertex);
      visit(p.target);
    }
    return this.network.vertices.filter((v) => needed.has(v) && !v.isInput);
  }

  /**
   * Changes the rates (shared ones, then per pcoder by name), checked as in a config:
   * 0 <= beta, lambda, beta + lambda <= 1; alpha >= 0. Pcoders without feedback keep lambda 0.
   */
  setRates(overrides: RateOverrides): void {
    const next = this.pcoders.map((p) => {
      const own = overrides.pcoders?.[p.name] ?? {};
      const rates = { ...p.rates, ...pick(overrides), ...pick(own) };
      if (!p.feedbackFrom) {
        if ((own.lambda ?? 0) > 0) throw new PredifyConfigError(`pcoders.${p.name}.lambda`, `"${p.name}" has no feedback: lambda must be 0`);
        rates.lambda = 0;
      }
      rateFields(rates, overrides.pcoders?.[p.name] ? `pcoders.${p.name}.` : "");
      return rates;
    });
    for (const name of Object.keys(overrides.pcoders ?? {}))
      if (!this.pcoders.some((p) => p.name === name)) throw new PredifyConfigError(`pcoders.${name}`, `no pcoder is named "${name}"`);
    this.pcoders.forEach((p, i) => ((p as { rates: PcoderRates }).rates = next[i]));
  }

  private stateFor(batch: number): PCState {
    if (this.state?.batch !== batch) {
      this.state?.dispose();
      for (const g of this.gradients) g.dispose();
      this.state = null;
      this.gradients = [];
      this.state = new PCState(this.network, batch);
      this.gradients = this.pcoders.map((p) => new Tensor([batch, ...p.vertex.shape], this.graph.backend));
    }
    return this.state;
  }

  /** Clamps the inputs' value units to the data. */
  private load(inputs: Feeds): PCState {
    const { batch, byNode } = resolveFeeds(this.graph, inputs);
    const state = this.stateFor(batch);
    for (const v of this.network.vertices) if (v.isInput) byNode.get(v.node!.index)!.copyTo(state.value[v.index]);
    return state;
  }

  /** Step 0: every vertex at its feedforward value (r_0 = ff). */
  private feedforwardStep(state: PCState): void {
    for (const v of this.sweep) v.op!.forward(state.parentValues(v), state.params(v), state.value[v.index]);
  }

  /** Step t >= 1: the sweep, with the Predify update at every pcoder. */
  private recurrentStep(state: PCState): void {
    const k = state.backend;
    for (const v of this.sweep) {
      const pcoder = this.pcoderOf.get(v);
      if (!pcoder) {
        v.op!.forward(state.parentValues(v), state.params(v), state.value[v.index]);
        continue;
      }
      state.predict(v); // ff_t into the prediction units
      const r = state.value[v.index];
      const { beta, lambda, alpha } = pcoder.rates;
      k.axpby(r.size, beta, state.prediction[v.index]!.address, 1 - beta - lambda, r.address);
      if (pcoder.feedbackFrom && lambda !== 0) {
        const above = pcoder.feedbackFrom.decoder;
        k.axpy(r.size, lambda, state.prediction[above[above.length - 1].index]!.address, r.address);
      }
      if (alpha !== 0) k.axpy(r.size, -alpha, this.gradients[pcoder.index].address, r.address);
    }
  }

  /**
   * Every decoder's prediction of its target and error e = x_target - mu, the error carried
   * back along the decoder chain (each decoder vertex gets J^T of the error above it, the
   * error it holds after one inference step at gamma = 1 from the feedforward state), and
   * dE_i/dr = -(2/n_i) J^T e at each pcoder. Returns each pcoder's batch-mean MSE.
   */
  private reconstruct(state: PCState): number[] {
    const k = state.backend;
    return this.pcoders.map((p) => {
      const chain = p.decoder;
      const last = chain[chain.length - 1];
      for (let j = 0; j < chain.length - 1; j++) chain[j].op!.forward(state.parentValues(chain[j]), state.params(chain[j]), state.value[chain[j].index]);
      state.predict(last);
      const error = state.error[last.index]!;
      k.sub(error.size, state.value[p.target.index].address, state.prediction[last.index]!.address, error.address);
      const mse = k.sumSquares(error.size, error.address) / (p.targetSize * state.batch);
      for (let j = chain.length - 1; j > 0; j--)
        chain[j].op!.inputVjp(0, state.parentValues(chain[j]), state.params(chain[j]), state.error[chain[j].index]!, state.error[chain[j - 1].index]!, 0);
      const gradient = this.gradients[p.index];
      chain[0].op!.inputVjp(0, state.parentValues(chain[0]), state.params(chain[0]), state.error[chain[0].index]!, gradient, 0);
      k.scale(gradient.size, -2 / p.targetSize, gradient.address, gradient.address);
      return mse;
    });
  }

  private record(state: PCState, step: number, errors: number[]): PredifyStep {
    return {
      step,
      prediction: state.value[this.network.output.index],
      energy: errors.reduce((a, b) => a + b, 0),
      reconstructionErrors: errors,
    };
  }

  /**
   * The step stream on a batch: step 0 (feedforward), then `steps` recurrent steps. Each
   * record's prediction is the network's own tensor, valid until the next step; a newer
   * stream on this network ends this one.
   */
  *steps(inputs: Feeds, steps: number = this.config.steps ?? predifyDefaults.steps): Generator<PredifyStep, void, void> {
    if (!Number.isInteger(steps) || steps < 0) throw new InvalidArgumentError(`predify: steps must be an integer >= 0, got ${steps}`);
    const id = ++this.stream;
    const check = () => {
      if (this.stream !== id) throw new InvalidArgumentError("predify: a newer run started on this network; this step stream has ended");
    };
    let state = this.load(inputs);
    this.feedforwardStep(state);
    yield this.record(state, 0, this.reconstruct(state));
    for (let t = 1; t <= steps; t++) {
      check();
      state = this.state!;
      this.recurrentStep(state);
      yield this.record(state, t, this.reconstruct(state));
    }
  }

  /** Runs every step and keeps a copy of each step's prediction. */
  run(inputs: Feeds, steps?: number): PredifyRun {
    const out: PredifyRun = { predictions: [], energies: [], reconstructionErrors: [] };
    try {
      for (const s of this.steps(inputs, steps)) {
        out.predictions.push(s.prediction.clone());
        out.energies.push(s.energy);
        out.reconstructionErrors.push(s.reconstructionErrors);
      }
    } catch (error) {
      for (const t of out.predictions) t.dispose();
      throw error;
    }
    return out;
  }

  /**
   * Decoder training on a batch: the feedforward pass, each decoder's reconstruction of its
   * target, and d/dtheta of the batch mean of E for every decoder parameter,
   * -(2 / (n_i batch)) sum (d mu / d theta)^T e (the PC learning rule on the decoder
   * vertices). Gradients are owned by the network (valid until the next call).
   */
  reconstructionGradients(inputs: Feeds): { loss: number; reconstructionErrors: number[]; gradients: Map<string, Tensor> } {
    this.stream++;
    const state = this.load(inputs);
    this.feedforwardStep(state);
    const errors = this.reconstruct(state);
    const acc = (this.accumulator ??= new ParameterAccumulator(this.decoderParameters));
    acc.zero();
    for (const p of this.pcoders) {
      for (const v of p.decoder) if (v.params.length > 0) acc.add(state, v);
      for (const param of p.parameters) {
        let g = this.decoderGradients.get(param.name);
        if (!g) this.decoderGradients.set(param.name, (g = new Tensor(param.shape, this.graph.backend)));
        const sum = acc.sums.get(param)!;
        state.backend.scale(sum.size, -2 / (p.targetSize * state.batch), sum.address, g.address);
      }
    }
    return { loss: errors.reduce((a, b) => a + b, 0), reconstructionErrors: errors, gradients: this.decoderGradients };
  }

  private pcoderAt(pcoder: number | string): Pcoder {
    const p = typeof pcoder === "number" ? this.pcoders[pcoder] : this.pcoders.find((q) => q.name === pcoder);
    if (!p) throw new InvalidArgumentError(`predify: no pcoder ${JSON.stringify(pcoder)} (pcoders: ${this.pcoders.map((q) => q.name).join(", ")})`);
    if (!this.state) throw new InvalidArgumentError("predify: nothing has run yet");
    return p;
  }

  /** A pcoder's representation r after the last step (the network's tensor). */
  representation(pcoder: number | string): Tensor {
    return this.state!.value[this.pcoderAt(pcoder).vertex.index];
  }

  /** dE_i/dr at the last step: the term the next step subtracts alpha times (the network's tensor). */
  errorGradient(pcoder: number | string): Tensor {
    return this.gradients[this.pcoderAt(pcoder).index];
  }

  /** The value, prediction and error units of the last step, for inspection. */
  get lastState(): PCState | null {
    return this.state;
  }

  /** Frees the decoders, the units and the network's own copy of the graph. */
  dispose(): void {
    this.stream++;
    this.state?.dispose();
    this.state = null;
    for (const g of this.gradients) g.dispose();
    this.gradients = [];
    this.accumulator?.dispose();
    this.accumulator = null;
    for (const g of this.decoderGradients.values()) g.dispose();
    this.decoderGradients.clear();
    this.graph.dispose();
  }
}

function pick(rates: Partial<PcoderRates>): Partial<PcoderRates> {
  const out: Partial<PcoderRates> = {};
  for (const key of ["beta", "lambda", "alpha"] as const) if (rates[key] !== undefined) out[key] = rates[key];
  return out;
}

/** True when `from` feeds `to` through some path of inputs. */
function feeds(from: GraphNode, to: GraphNode): boolean {
  const seen = new Set<GraphNode>();
  const stack = [...to.inputs];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === from) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return false;
}

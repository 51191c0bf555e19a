// The units of a PC network for one batch size: every vertex's value units x, prediction
// mu = f(x of parents; theta) and error units e = x - mu. The output vertex is clamped to
// the target, so its error is e_out = -w dL/dmu_out (w: the output-error weight); inputs
// are clamped to the data. Tensors are allocated once per batch size and reused.
import { ShapeError } from "../backend/errors.js";
import { resolveFeeds, type Feeds } from "../graph/forward.js";
import { lossValue, outputError } from "../graph/loss.js";
import { formatShape, Tensor } from "../tensor.js";
import type { PCNetwork, Vertex } from "./network.js";

/** One batch for a PC engine: the inputs (one tensor or tensors by input name) and the target. */
export interface PCBatch {
  inputs: Feeds;
  target: Tensor;
}

/** The units of a PC network for one batch size: value, prediction and error units per vertex. */
export class PCState {
  readonly value: Tensor[];
  readonly prediction: (Tensor | null)[];
  readonly error: (Tensor | null)[];
  /** Scratch for synchronous inference steps: the change of each vertex's value units. */
  readonly change: (Tensor | null)[];
  /** Heavy-ball velocity of each free vertex's values (IL with momentum); allocated on first use. */
  velocity: (Tensor | null)[] | null = null;
  /** Values of the feedforward pass, kept for the fixed prediction assumption. */
  feedforward: (Tensor | null)[] | null = null;
  target: Tensor | null = null;
  /** w in e_out = -w dL/dmu_out. */
  outputWeight = 1;
  /** The loss at the feedforward prediction of the last initialisation. */
  feedforwardLoss = NaN;
  /**
   * Set by a schedule that left units for nothing to read (Z-IL's unobserved wavefront): brings
   * every unit to what the schedule's full dynamics hold. `settle()` runs it once.
   */
  unsettled: (() => void) | null = null;

  constructor(readonly network: PCNetwork, readonly batch: number) {
    const backend = network.graph.backend;
    const make = (v: Vertex) => new Tensor([batch, ...v.shape], backend);
    this.value = network.vertices.map(make);
    this.prediction = network.vertices.map((v) => (v.isInput ? null : make(v)));
    this.error = network.vertices.map((v) => (v.isInput ? null : make(v)));
    this.change = network.vertices.map((v) => (v.isInput || v.isOutput ? null : make(v)));
  }

  /** The backend of the graph's parameters, where every unit lives. */
  get backend() {
    return this.network.graph.backend;
  }

  /** Completes the units a schedule left unwritten (see `unsettled`); a no-op otherwise. */
  settle(): void {
    const complete = this.unsettled;
    this.unsettled = null;
    complete?.();
  }

  /** Clamps the inputs to the batch's data and stores the target. */
  load(batch: PCBatch): void {
    this.unsettled = null;
    const graph = this.network.graph;
    const { batch: size, byNode } = resolveFeeds(graph, batch.inputs);
    if (size !== this.batch) throw new ShapeError(`PC state was made for batch ${this.batch}, got ${size}`);
    const out = this.network.output;
    if (batch.target.shape[0] !== size || batch.target.size !== size * out.size)
      throw new ShapeError(`target ${formatShape(batch.target.shape)} does not match output "${out.name}" [${size},${out.shape.join(",")}]`);
    for (const v of this.network.vertices) if (v.isInput) byNode.get(v.node!.index)!.copyTo(this.value[v.index]);
    this.target = batch.target;
  }

  /** Parents' tensors: current values, or feedforward values under the fixed prediction assumption. */
  parentValues(v: Vertex, atFeedforward = false): Tensor[] {
    const source = atFeedforward && this.feedforward ? this.feedforward : this.value;
    return v.parents.map((p) => source[p.index]!);
  }

  /** The parameter tensors of a vertex's op, in the op's order. */
  params(v: Vertex): Tensor[] {
    return v.params.map((p) => p.tensor);
  }

  /** mu_v = f(x of parents; theta). */
  predict(v: Vertex, atFeedforward = false): void {
    v.op!.forward(this.parentValues(v, atFeedforward), this.params(v), this.prediction[v.index]!);
  }

  /** e_v = x_v - mu_v; for the clamped output, e = -w dL/dmu. */
  updateError(v: Vertex): void {
    const e = this.error[v.index]!;
    const mu = this.prediction[v.index]!;
    if (v.isOutput) outputError(this.network.graph.loss, mu, this.target!, e, this.outputWeight);
    else this.backend.sub(e.size, this.value[v.index].address, mu.address, e.address);
  }

  /**
   * The feedforward pass: x = mu for every vertex, all internal errors zero, the output's
   * error from the loss. Keeps a copy of the values when `keepFeedforward` (FPA).
   * `valuesOnly`: the internal vertices' values alone, computed in place, their predictions
   * and errors left as they were, for a schedule that reads neither before writing it (Z-IL's
   * unobserved wavefront, schedules.ts).
   */
  initializeFeedforward(keepFeedforward = false, valuesOnly = false): void {
    const backend = this.backend;
    for (const v of this.network.vertices) {
      if (v.isInput) continue;
      if (valuesOnly && !v.isOutput) {
        v.op!.forward(this.parentValues(v), this.params(v), this.value[v.index]);
        continue;
      }
      this.predict(v);
      if (!v.isOutput) {
        this.prediction[v.index]!.copyTo(this.value[v.index]);
        backend.fill(v.size * this.batch, 0, this.error[v.index]!.address);
      } else {
        this.prediction[v.index]!.copyTo(this.value[v.index]);
        this.updateError(v);
      }
    }
    this.feedforwardLoss = this.loss();
    if (keepFeedforward) {
      this.feedforward ??= this.network.vertices.map((v) => new Tensor([this.batch, ...v.shape], backend));
      for (const v of this.network.vertices) this.value[v.index].copyTo(this.feedforward[v.index]!);
    }
  }

  /** The loss at the output's current prediction. */
  loss(): number {
    return lossValue(this.network.graph.loss, this.prediction[this.network.output.index]!, this.target!);
  }

  /** F = sum over internal vertices of 1/2 |e|^2 + w L(mu_out, target). */
  energy(): number {
    let total = 0;
    for (const v of this.network.vertices) {
      if (v.isInput || v.isOutput) continue;
      const e = this.error[v.index]!;
      total += 0.5 * this.backend.sumSquares(e.size, e.address);
    }
    return total + this.outputWeight * this.loss();
  }

  /** Zeroed velocity units for every free vertex. */
  resetVelocity(): (Tensor | null)[] {
    this.velocity ??= this.change.map((c) => (c ? new Tensor(c.shape, c.backend) : null));
    for (const t of this.velocity) t?.backend.fill(t.size, 0, t.address);
    return this.velocity;
  }

  /** Frees every unit. */
  dispose(): void {
    for (const list of [this.value, this.prediction, this.error, this.change, this.feedforward ?? [], this.velocity ?? []]) for (const t of list) t?.dispose();
  }
}

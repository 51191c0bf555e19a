// The units of a PC graph for one batch size: every group's values X_g [B, n_g], which of
// them are clamped (per group, or per element with a 0/1 mask), the gradient dF/dX of the
// groups that move, and caches of f(X_g). Energy terms keep their own per-group buffers
// here (`buffer(key, group)`), so everything is allocated once per batch size and a
// relaxation allocates nothing.
//
// Change tracking: one counter (`tick`) stamps every change — of a group's values, of the
// parameters, of which units are clamped. A cached quantity stores the largest stamp of what
// it was computed from; it is stale exactly when that maximum has grown since.
import { InvalidArgumentError, ShapeError } from "../../backend/errors.js";
import type { Backend } from "../../backend/kernels.js";
import { Tensor } from "../../tensor.js";
import { activate } from "./activation.js";
import type { PCGraphModel } from "./model.js";
import type { Group } from "./topology.js";

/** How a group's units take part: all clamped, all free, or some of each. */
export type Freedom = "clamped" | "free" | "partial";

/** The value units of a PC graph for one batch size, with which units are clamped and the gradient buffers. */
export class PCGraphState {
  readonly values: Tensor[];
  readonly freedom: Freedom[];
  /** Free units per group (the residual's denominator). */
  readonly freeCounts: number[];
  /** Stamp of the last change of each group's values. */
  readonly version: number[];
  /** Stamp of the last parameter change. */
  parameterStamp = 0;
  /** Stamp of the last change of which units are clamped. */
  freedomStamp = 0;
  private tick = 0;
  private readonly freeMasks: (Tensor | null)[];
  private readonly gradients: (Tensor | null)[];
  private readonly activations: (Tensor | null)[];
  private readonly activationStamps: number[];
  private readonly buffers = new Map<string, Tensor>();
  private disposed = false;

  constructor(readonly model: PCGraphModel, readonly batch: number) {
    if (!Number.isInteger(batch) || batch < 1) throw new ShapeError(`PC graph state: batch must be an integer >= 1, got ${batch}`);
    const groups = model.groups;
    this.values = [];
    try {
      for (const g of groups) {
        const t = new Tensor([batch, g.size], model.backend);
        model.backend.fill(t.size, 0, t.address);
        this.values.push(t);
      }
    } catch (error) {
      for (const t of this.values) t.dispose();
      throw error;
    }
    this.freedom = groups.map(() => "free");
    this.freeCounts = groups.map((g) => g.size * batch);
    this.version = groups.map(() => 0);
    this.freeMasks = groups.map(() => null);
    this.gradients = groups.map(() => null);
    this.activations = groups.map(() => null);
    this.activationStamps = groups.map(() => -1);
  }

  /** The backend of the model's parameters, where the units live. */
  get backend(): Backend {
    return this.model.backend;
  }

  /** The model's groups. */
  get groups(): readonly Group[] {
    return this.model.groups;
  }

  /** A new stamp, larger than every earlier one. */
  stamp(): number {
    return ++this.tick;
  }

  /** Records that the values of `group` changed. */
  valuesChanged(group: Group): void {
    this.version[group.index] = this.stamp();
  }

  /** Records that the parameters changed (after an optimizer step or setWeights). */
  parametersChanged(): void {
    this.parameterStamp = this.stamp();
  }

  /** True when some unit of the group is free. */
  moves(group: Group): boolean {
    return this.freedom[group.index] !== "clamped";
  }

  /**
   * Which units of `group` are free: "free", "clamped", or a 0/1 array (1 = free) of n_g
   * values shared by the batch or B * n_g values, one row per sample.
   */
  setFreedom(group: Group, freedom: "free" | "clamped" | ArrayLike<number>): void {
    const i = group.index;
    if (freedom === "free" || freedom === "clamped") {
      this.freedom[i] = freedom;
      this.freeCounts[i] = freedom === "free" ? group.size * this.batch : 0;
    } else {
      const n = group.size;
      if (freedom.length !== n && freedom.length !== n * this.batch)
        throw new ShapeError(`group "${group.name}": a clamp mask has ${freedom.length} entries, expected ${n} (one per unit) or ${n * this.batch} (batch ${this.batch} x ${n})`);
      const rows = new Float64Array(n * this.batch);
      let free = 0;
      for (let i2 = 0; i2 < rows.length; i2++) {
        const v = freedom[i2 % freedom.length];
        if (v !== 0 && v !== 1)
          throw new InvalidArgumentError(`group "${group.name}": a clamp mask has ${JSON.stringify(v)} at entry ${i2 % freedom.length}; entries are 0 or 1`);
        rows[i2] = v;
        free += v;
      }
      if (free === 0) return this.setFreedom(group, "clamped");
      if (free === rows.length) return this.setFreedom(group, "free");
      const mask = (this.freeMasks[i] ??= new Tensor([this.batch, n], this.backend));
      mask.assign(rows);
      this.freedom[i] = "partial";
      this.freeCounts[i] = free;
    }
    this.freedomStamp = this.stamp();
  }

  /** The 0/1 mask of free units of a partially clamped group (null otherwise). */
  freeMask(group: Group): Tensor | null {
    return this.freedom[group.index] === "partial" ? this.freeMasks[group.index] : null;
  }

  /** dF/dX of a group (allocated on first use). */
  gradient(group: Group): Tensor {
    return (this.gradients[group.index] ??= new Tensor([this.batch, group.size], this.backend));
  }

  /** f(X_g), recomputed only when the values changed. Identity groups return the values. */
  activation(group: Group): Tensor {
    const x = this.values[group.index];
    if (group.activation === "identity") return x;
    const out = (this.activations[group.index] ??= new Tensor([this.batch, group.size], this.backend));
    if (this.activationStamps[group.index] !== this.version[group.index]) {
      activate(this.backend, group, x.size, x.address, out.address);
      this.activationStamps[group.index] = this.version[group.index];
    }
    return out;
  }

  /** A per-group buffer of shape [B, n_g] (or `shape`) owned by the state, e.g. an energy term's errors. */
  buffer(key: string, group: Group, shape?: readonly number[]): Tensor {
    const name = `${key}/${group.index}`;
    let t = this.buffers.get(name);
    if (!t) this.buffers.set(name, (t = new Tensor(shape ?? [this.batch, group.size], this.backend)));
    return t;
  }

  /** True once the units have been freed. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the units and buffers. */
  dispose(): void {
    this.disposed = true;
    for (const list of [this.values, this.freeMasks, this.gradients, this.activations]) for (const t of list) t?.dispose();
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}

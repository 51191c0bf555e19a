// Queries on a PC graph: a clamp (which units hold data), optional starting values, and a
// read-out. Classification clamps the image and reads the label; generation clamps the
// label and reads the image; completion clamps part of the image; denoising starts the free
// image at the noisy values. Everything is checked before the state is touched.
import { InvalidArgumentError, ShapeError } from "../../backend/errors.js";
import { Tensor } from "../../tensor.js";
import type { Energy } from "./energy.js";
import { checkValueInit, initializeValues, writeFreeUnits, type ValueInit } from "./init.js";
import type { PCGraphModel } from "./model.js";
import type { PCGraphState } from "./state.js";
import type { Group } from "./topology.js";

/** Data for a group: a tensor, or numbers (n_g shared by the batch, or B x n_g). */
export type GroupData = Tensor | ArrayLike<number>;

/** Clamped values of a group: all units, or those where `mask` is 1 (n_g entries shared by the batch, or B x n_g). */
export type ClampValue = GroupData | { values: GroupData; mask?: ArrayLike<number> };

/** Which units a query clamps to data, and how the free ones start. */
export interface QueryClamps {
  /** Groups (or some of their units) held at data; every other unit is free. */
  clamp?: Record<string, ClampValue>;
  /** Starting values of the free units of these groups (e.g. a noisy image to denoise). */
  start?: Record<string, GroupData>;
  /** How the other free units start (default "forward"). */
  init?: ValueInit;
  /** Batch size, needed only when no clamp or start values say it. */
  batch?: number;
}

interface Loaded {
  group: Group;
  data: GroupData;
  /** 1 = free, per unit or per element. */
  freeMask?: Float64Array;
}

function length(data: GroupData): number {
  return data instanceof Tensor ? data.size : data.length;
}

function isGroupData(v: unknown): v is GroupData {
  return v instanceof Tensor || ArrayBuffer.isView(v) || Array.isArray(v);
}

/** Checks every value is finite; names the group, sample and unit of the first that is not. */
export function checkFinite(group: Group, data: GroupData, what: string): void {
  let values: ArrayLike<number>;
  if (data instanceof Tensor) {
    if (data.backend.countNonFinite(data.size, data.address) === 0) return;
    values = data.dataSync();
  } else values = data;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      const sample = Math.floor(i / group.size);
      throw new InvalidArgumentError(`group "${group.name}": ${what} has ${v} at sample ${sample}, unit ${i - sample * group.size}`);
    }
  }
}

/** The batch size a query implies (every clamp and start must agree). */
export function queryBatch(model: PCGraphModel, q: QueryClamps): number {
  let batch: number | undefined = q.batch;
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1)) throw new InvalidArgumentError(`query: batch must be an integer >= 1, got ${JSON.stringify(batch)}`);
  const see = (name: string, data: unknown, what: string) => {
    const g = model.group(name);
    if (!isGroupData(data)) throw new InvalidArgumentError(`group "${name}": ${what} must be a Tensor or an array of numbers, got ${typeof data}`);
    const n = length(data);
    if (n === 0 || n % g.size !== 0)
      throw new ShapeError(`group "${name}": ${what} has ${n} values, not a whole number of samples of ${g.size}`);
    if (batch !== undefined && n / g.size !== batch)
      throw new ShapeError(`group "${name}": ${what} has ${n / g.size} samples, but the query has batch ${batch}`);
    batch = n / g.size;
  };
  for (const [name, value] of Object.entries(q.clamp ?? {})) see(name, isGroupData(value) ? value : (value as { values: unknown })?.values, "clamp values");
  for (const [name, value] of Object.entries(q.start ?? {})) see(name, value, "start values");
  if (batch === undefined) throw new InvalidArgumentError("query: nothing is clamped or started, so give the batch size (batch)");
  return batch;
}

/**
 * Loads a query into `state` (whose batch is `queryBatch`): clamps, starting values and
 * initialisation of the other free units. Validates everything before writing anything.
 */
export function loadQuery(state: PCGraphState, energy: Energy, q: QueryClamps): void {
  const model = state.model;
  if (q.init !== undefined) checkValueInit(q.init);
  const clamps: Loaded[] = [];
  for (const [name, value] of Object.entries(q.clamp ?? {})) {
    const group = model.group(name);
    const data = isGroupData(value) ? value : value.values;
    checkFinite(group, data, "clamp values");
    const clampMask = isGroupData(value) ? undefined : value.mask;
    let freeMask: Float64Array | undefined;
    if (clampMask !== undefined) {
      if (clampMask === null || typeof clampMask !== "object" || typeof clampMask.length !== "number")
        throw new InvalidArgumentError(`group "${name}": clamp mask must be an array of 0/1 values`);
      if (clampMask.length !== group.size && clampMask.length !== group.size * state.batch)
        throw new ShapeError(`group "${name}": clamp mask has ${clampMask.length} entries, expected ${group.size} (one per unit) or ${group.size * state.batch} (batch ${state.batch} x ${group.size})`);
      freeMask = new Float64Array(clampMask.length);
      for (let i = 0; i < clampMask.length; i++) {
        const v = clampMask[i];
        if (v !== 0 && v !== 1) throw new InvalidArgumentError(`group "${name}": clamp mask has ${JSON.stringify(v)} at entry ${i}; entries are 0 or 1`);
        freeMask[i] = 1 - v;
      }
    }
    clamps.push({ group, data, freeMask });
  }
  const starts: Loaded[] = [];
  for (const [name, data] of Object.entries(q.start ?? {})) {
    const group = model.group(name);
    checkFinite(group, data, "start values");
    const clamp = clamps.find((c) => c.group === group);
    if (clamp && !clamp.freeMask) throw new InvalidArgumentError(`group "${name}": start values given for a group that is entirely clamped`);
    starts.push({ group, data });
  }
  for (const t of [...clamps, ...starts])
    if (t.data instanceof Tensor && t.data.backend !== state.backend)
      throw new InvalidArgumentError(`group "${t.group.name}": data on backend ${t.data.backend.name}, the PC graph on ${state.backend.name}`);

  // Everything checked: write.
  for (const g of state.groups) {
    const clamp = clamps.find((c) => c.group === g);
    if (!clamp) state.setFreedom(g, "free");
    else state.setFreedom(g, clamp.freeMask ?? "clamped");
  }
  for (const { group, data } of clamps) {
    write(state.values[group.index], data);
    state.valuesChanged(group);
  }
  for (const { group, data } of starts) {
    const t = data instanceof Tensor ? data : new Tensor([state.batch, group.size], state.backend).assign(data);
    try {
      writeFreeUnits(state, group, t);
    } finally {
      if (t !== data) t.dispose();
    }
  }
  const started = new Set(starts.map((s) => s.group));
  initializeValues(state, energy, q.init ?? "forward", state.groups.filter((g) => !started.has(g)));
}

function write(target: Tensor, data: GroupData): void {
  if (data instanceof Tensor) data.copyTo(target);
  else target.assign(data);
}

/** Checks a read-out against a query before anything is loaded: known groups, none entirely clamped. */
export function checkReads(model: PCGraphModel, q: QueryClamps, reads: readonly string[]): Group[] {
  if (!Array.isArray(reads) || reads.length === 0) throw new InvalidArgumentError("query: read must name at least one group");
  return reads.map((name) => {
    const g = model.group(name);
    const clamp = q.clamp?.[name];
    const mask = clamp === undefined || isGroupData(clamp) ? undefined : clamp.mask;
    const entirely = clamp !== undefined && (mask === undefined || Array.prototype.every.call(mask, (v: number) => v === 1));
    if (entirely) throw new InvalidArgumentError(`group "${name}" is read but entirely clamped: its values are the data (read a group with free units)`);
    return g;
  });
}

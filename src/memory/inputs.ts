// Checking what callers hand an associative memory: rows of patterns or queries, and masks
// saying which query entries are known. Every problem is a typed error that names the
// argument and the offending row or entry.
import { InvalidArgumentError, ShapeError } from "../backend/errors.js";
import type { Backend } from "../backend/kernels.js";
import { formatShape, Tensor } from "../tensor.js";

/** One vector, a list of row vectors, or a Tensor of rank 1 ([D]) or 2 ([rows, D]). */
export type Rows = Tensor | ArrayLike<number> | readonly ArrayLike<number>[];

/**
 * Which query entries are known (1 or true) and unknown (0 or false): one mask of D entries
 * for every query, or one per query (a list of rows, or a Tensor [rows, D]).
 */
export type MaskInput = Tensor | ArrayLike<number | boolean> | readonly ArrayLike<number | boolean>[];

/** Rows as a tensor on the memory's backend, with whether the caller gave a single vector. */
export interface RowTensor {
  tensor: Tensor;
  rows: number;
  cols: number;
  /** A single vector (rank 1): results come back as a vector too. */
  single: boolean;
  /** True when the tensor was created here (and must be disposed by the caller of toRows). */
  owned: boolean;
}

const isRowList = (x: unknown): x is readonly ArrayLike<unknown>[] =>
  Array.isArray(x) && x.length > 0 && typeof x[0] === "object" && x[0] !== null;

function describeEntry(argument: string, single: boolean, cols: number, index: number): string {
  return single ? `${argument}[${index}]` : `${argument}[${Math.floor(index / cols)}][${index % cols}]`;
}

/** Throws naming the first non-finite entry of `data`. */
function checkFinite(where: string, argument: string, data: ArrayLike<number>, single: boolean, cols: number): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new InvalidArgumentError(`${where}: ${describeEntry(argument, single, cols, i)} is ${data[i]}; every entry must be a finite number`);
}

/**
 * Validates `input` as rows of equal length (and `cols` entries each when given), every
 * entry finite; returns them as a tensor on `backend`.
 */
export function toRows(where: string, argument: string, input: Rows, backend: Backend, cols?: number): RowTensor {
  if (input instanceof Tensor) {
    if (input.backend !== backend)
      throw new InvalidArgumentError(`${where}: ${argument} lives on backend ${input.backend.name}, the memory on ${backend.name}`);
    if (input.rank !== 1 && input.rank !== 2)
      throw new ShapeError(`${where}: ${argument} must be a vector [D] or a matrix [rows, D], got a tensor of shape ${formatShape(input.shape)}`);
    const single = input.rank === 1;
    const rows = single ? 1 : input.shape[0];
    const width = input.shape[input.rank - 1];
    checkSize(where, argument, rows, width, cols);
    if (backend.countNonFinite(input.size, input.address) > 0) checkFinite(where, argument, input.dataSync(), single, width);
    return { tensor: input, rows, cols: width, single, owned: false };
  }
  if (input === null || typeof input !== "object" || typeof (input as ArrayLike<unknown>).length !== "number")
    throw new InvalidArgumentError(`${where}: ${argument} must be a vector, a list of rows or a Tensor, got ${input === null ? "null" : typeof input}`);
  if ((input as ArrayLike<unknown>).length === 0) throw new InvalidArgumentError(`${where}: ${argument} is empty (no rows)`);
  if (isRowList(input)) {
    const list = input as readonly ArrayLike<number>[];
    const width = list[0].length;
    list.forEach((row, r) => {
      if (row === null || typeof row !== "object" || typeof row.length !== "number")
        throw new InvalidArgumentError(`${where}: ${argument}[${r}] is not a vector`);
      if (row.length !== width)
        throw new ShapeError(`${where}: ${argument}[${r}] has ${row.length} entries but ${argument}[0] has ${width}; all rows must have the same length`);
    });
    checkSize(where, argument, list.length, width, cols);
    const flat = new Float64Array(list.length * width);
    list.forEach((row, r) => {
      for (let c = 0; c < width; c++) flat[r * width + c] = row[c];
    });
    checkFinite(where, argument, flat, false, width);
    return upload(flat, [list.length, width], backend, false);
  }
  const vector = input as ArrayLike<number>;
  checkSize(where, argument, 1, vector.length, cols);
  for (let i = 0; i < vector.length; i++)
    if (typeof vector[i] !== "number")
      throw new InvalidArgumentError(`${where}: ${argument}[${i}] is ${typeof vector[i]}, expected a number`);
  checkFinite(where, argument, vector, true, vector.length);
  return upload(vector, [vector.length], backend, true);
}

function checkSize(where: string, argument: string, rows: number, width: number, cols: number | undefined): void {
  if (rows === 0) throw new InvalidArgumentError(`${where}: ${argument} is empty (no rows)`);
  if (width === 0) throw new ShapeError(`${where}: ${argument} has rows of length 0`);
  if (cols !== undefined && width !== cols)
    throw new ShapeError(`${where}: ${argument} has ${width} entries per row, expected ${cols} (the memory's pattern size)`);
}

function upload(data: ArrayLike<number>, shape: number[], backend: Backend, single: boolean): RowTensor {
  const tensor = new Tensor(shape, backend);
  tensor.assign(data);
  return { tensor, rows: single ? 1 : shape[0], cols: shape[shape.length - 1], single, owned: true };
}

/** A mask as 0/1 numbers: `rows` = 1 for one mask shared by every query. */
export interface Mask {
  values: Float64Array;
  rows: number;
}

/**
 * Validates a mask for `queryRows` queries of `cols` entries: entries 0/1 or booleans, one
 * row (shared) or one per query, and at least one known entry in every row.
 */
export function toMask(where: string, input: MaskInput, queryRows: number, cols: number): Mask {
  let values: ArrayLike<number | boolean>;
  let rows: number;
  if (input instanceof Tensor) {
    if (input.rank !== 1 && input.rank !== 2)
      throw new ShapeError(`${where}: mask must be a vector [D] or a matrix [rows, D], got a tensor of shape ${formatShape(input.shape)}`);
    rows = input.rank === 1 ? 1 : input.shape[0];
    if (input.shape[input.rank - 1] !== cols)
      throw new ShapeError(`${where}: mask has ${input.shape[input.rank - 1]} entries per row, expected ${cols}`);
    values = input.dataSync();
  } else if (isRowList(input)) {
    const list = input as readonly ArrayLike<number | boolean>[];
    rows = list.length;
    const flat: (number | boolean)[] = [];
    list.forEach((row, r) => {
      if (row.length !== cols) throw new ShapeError(`${where}: mask[${r}] has ${row.length} entries, expected ${cols}`);
      for (let c = 0; c < cols; c++) flat.push(row[c]);
    });
    values = flat;
  } else if (input !== null && typeof input === "object" && typeof (input as ArrayLike<unknown>).length === "number") {
    values = input as ArrayLike<number | boolean>;
    rows = 1;
    if (values.length !== cols) throw new ShapeError(`${where}: mask has ${values.length} entries, expected ${cols}`);
  } else {
    throw new InvalidArgumentError(`${where}: mask must be a vector, a list of rows or a Tensor, got ${input === null ? "null" : typeof input}`);
  }
  if (rows !== 1 && rows !== queryRows)
    throw new ShapeError(`${where}: mask has ${rows} rows for ${queryRows} queries (give one mask for all, or one per query)`);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    const v = values[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v === false || v === 0) out[i] = 0;
    else throw new InvalidArgumentError(`${where}: ${describeEntry("mask", rows === 1, cols, i)} is ${String(v)}; mask entries must be 0/1 or booleans (1 = known)`);
  }
  for (let r = 0; r < rows; r++) {
    if (!out.subarray(r * cols, (r + 1) * cols).some((v) => v === 1))
      throw new InvalidArgumentError(`${where}: ${rows === 1 ? "mask" : `mask[${r}]`} marks no entry as known; there is nothing to compare`);
  }
  return { values: out, rows };
}

// Errors for dataset files (IDX, CSV, bundled MNIST): the message names the file and, where
// it applies, the line and column at fault.
import { PcgraphError } from "../../backend/errors.js";

/** A position in a data file (1-based line and column). */
export interface DataLocation {
  line?: number;
  column?: number;
}

/** A data file that cannot be read as a dataset: wrong magic number, truncated, ragged, non-numeric, ... */
export class DataFormatError extends PcgraphError {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(readonly file: string, problem: string, where: DataLocation = {}) {
    const position = where.line === undefined ? "" : `:${where.line}${where.column === undefined ? "" : `:${where.column}`}`;
    super(`${file}${position}: ${problem}`);
    this.line = where.line;
    this.column = where.column;
  }
}

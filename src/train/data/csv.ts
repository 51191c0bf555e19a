// Numeric CSV datasets: one sample per line, one column holding the integer class label and
// the other columns the raw (unnormalised) features. Blank lines are skipped; fields may be
// wrapped in double quotes. Pure parsing; reading files lives in src/node/datasets.ts.
import { makeDataset, type Dataset } from "./dataset.js";
import { DataFormatError } from "./errors.js";

/** How `parseCsv` reads a file: the label column, a header, the name for messages. */
export interface CsvOptions {
  /** Name for error messages and the dataset (default "<csv>"). */
  fileName?: string;
  /** Dataset name (default the file name). */
  name?: string;
  /** The label column: 0-based index (negative counts from the end) or header name (default the last column). */
  labelColumn?: number | string;
  /** Whether the first line is a header; "auto" (default) when any of its fields is not a number. */
  header?: boolean | "auto";
  /** Field separator (default ","). */
  delimiter?: string;
  /**
   * Largest number of classes (largest label + 1) accepted (default 10,000): one stray large
   * label would otherwise size the model's output layer.
   */
  maxClasses?: number;
  /**
   * The number of classes, e.g. a trained model's output size (default: the largest label +
   * 1); every label must lie below it. A file need not contain every class.
   */
  numClasses?: number;
}

export const DEFAULT_MAX_CLASSES = 10_000;

// Decimal numbers only: Number() alone would accept "", " ", "0x1f" and "Infinity".
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function splitLine(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((field) => {
    const trimmed = field.trim();
    return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
  });
}

/** Parses CSV text into a dataset; numClasses is the largest label + 1 (at most `maxClasses`) unless given. */
export function parseCsv(text: string, options: CsvOptions = {}): Dataset {
  const file = options.fileName ?? "<csv>";
  const delimiter = options.delimiter ?? ",";
  const lines: { number: number; fields: string[] }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim().length > 0) lines.push({ number: i + 1, fields: splitLine(line, delimiter) });
  });
  if (lines.length === 0) throw new DataFormatError(file, "empty file: no header or data rows");

  const first = lines[0];
  const hasHeader = options.header === "auto" || options.header === undefined
    ? first.fields.some((f) => !NUMBER.test(f))
    : options.header;
  const header = hasHeader ? first.fields : undefined;
  const rows = hasHeader ? lines.slice(1) : lines;
  if (rows.length === 0) throw new DataFormatError(file, "no data rows (only a header)", { line: first.number });

  const width = first.fields.length;
  if (width < 2)
    throw new DataFormatError(file, `${width} column: need at least one feature column and a label column`, { line: first.number });
  const labelIndex = resolveLabelColumn(options.labelColumn, header, width, file);

  const numClasses = options.numClasses;
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1))
    throw new DataFormatError(file, `numClasses must be an integer >= 1, got ${numClasses}`);
  const maxClasses = numClasses ?? options.maxClasses ?? DEFAULT_MAX_CLASSES;
  if (!Number.isInteger(maxClasses) || maxClasses < 1)
    throw new DataFormatError(file, `maxClasses must be an integer >= 1, got ${maxClasses}`);
  const featureCount = width - 1;
  const features = new Float32Array(rows.length * featureCount);
  const labels = new Int32Array(rows.length);
  let maxLabel = 0;
  let tooLarge: { label: number; where: { line: number; column: number } } | null = null;
  rows.forEach((row, r) => {
    if (row.fields.length !== width)
      throw new DataFormatError(
        file,
        `${row.fields.length} fields, expected ${width} (as on line ${first.number})`,
        { line: row.number },
      );
    let k = r * featureCount;
    row.fields.forEach((field, c) => {
      const where = { line: row.number, column: c + 1 };
      if (!NUMBER.test(field))
        throw new DataFormatError(file, `${JSON.stringify(field)} is not a number${header ? ` (column "${header[c]}")` : ""}`, where);
      const value = Number(field);
      if (c !== labelIndex && !Number.isFinite(Math.fround(value)))
        throw new DataFormatError(file, `${field} is not finite in float32 (magnitudes above 3.4028235e38 overflow to Infinity)${header ? ` (column "${header[c]}")` : ""}`, where);
      if (c === labelIndex) {
        if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)
          throw new DataFormatError(file, `label ${field} must be an integer >= 0`, where);
        labels[r] = value;
        if (value > maxLabel) maxLabel = value;
        if (value >= maxClasses && !tooLarge) tooLarge = { label: value, where };
      } else features[k++] = value;
    });
  });
  const found = tooLarge as { label: number; where: { line: number; column: number } } | null; // set inside the loop
  if (found && numClasses !== undefined)
    throw new DataFormatError(file, `label ${found.label} is outside the ${numClasses} classes 0..${numClasses - 1}`, found.where);
  if (found) {
    const distinct = new Set(labels).size;
    throw new DataFormatError(file, `label ${found.label} would make ${(maxLabel + 1).toLocaleString("en-US")} classes (the largest label + 1), ` +
      `above the limit of ${maxClasses.toLocaleString("en-US")}; the file has ${distinct.toLocaleString("en-US")} distinct labels: ` +
      `number the classes 0..${distinct - 1}${options.maxClasses === undefined ? " (or raise maxClasses)" : ""}`, found.where);
  }
  return makeDataset(options.name ?? file, features, labels, [featureCount], numClasses ?? maxLabel + 1);
}

function resolveLabelColumn(column: number | string | undefined, header: string[] | undefined, width: number, file: string): number {
  if (column === undefined) return width - 1;
  if (typeof column === "string") {
    if (!header) throw new DataFormatError(file, `labelColumn "${column}" names a column, but the file has no header`);
    const index = header.indexOf(column);
    if (index < 0) throw new DataFormatError(file, `no column named "${column}" in the header (${header.join(", ")})`);
    return index;
  }
  const index = column < 0 ? width + column : column;
  if (!Number.isInteger(index) || index < 0 || index >= width)
    throw new DataFormatError(file, `labelColumn ${column} is outside the ${width} columns`);
  return index;
}

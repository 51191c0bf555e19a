// Node-only dataset loaders: IDX files (plain or gzip) and CSV files. The parsing itself is
// platform-neutral (src/train/data/idx.ts, csv.ts); this file only reads bytes from disk.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parseCsv, type CsvOptions } from "../train/data/csv.js";
import type { Dataset } from "../train/data/dataset.js";
import { DataFormatError } from "../train/data/errors.js";
import { idxToDataset, isGzip, parseIdx, type IdxDatasetOptions } from "../train/data/idx.js";

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DataFormatError(path, `cannot read: ${(error as Error).message}`);
  }
}

/** The file's bytes, gunzipped when they start with the gzip magic number (1f 8b). */
export function readMaybeGzip(path: string): Uint8Array {
  const bytes = readBytes(path);
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DataFormatError(path, `corrupt gzip data: ${(error as Error).message}`);
  }
}

/** A 10-class dataset from an IDX images file and an IDX labels file (each plain or .gz). */
export function loadIdxDataset(imagesPath: string, labelsPath: string, name?: string, options: Omit<IdxDatasetOptions, "name"> = {}): Dataset {
  const images = parseIdx(readMaybeGzip(imagesPath), imagesPath);
  const labels = parseIdx(readMaybeGzip(labelsPath), labelsPath);
  return idxToDataset(images, labels, { images: imagesPath, labels: labelsPath }, { ...options, name: name ?? imagesPath });
}

/** A dataset from a CSV file (see parseCsv); errors name the file, line and column. */
export function loadCsvDataset(path: string, options: Omit<CsvOptions, "fileName"> = {}): Dataset {
  const text = new TextDecoder().decode(readBytes(path));
  return parseCsv(text, { ...options, fileName: path });
}

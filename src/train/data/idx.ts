// The IDX format of the MNIST distribution files (train-images-idx3-ubyte, ...):
//   bytes 0-3  magic number: 0x00 0x00, type code (0x08 = unsigned byte), number of dims
//   then one big-endian u32 per dimension, then the items as unsigned bytes, row-major.
// Labels are 0x00000801 ([count]); images are 0x00000803 ([count, rows, cols]).
// Pure parsing and encoding; reading files (and gunzip) lives in src/node/datasets.ts.
import { makeDataset, type Dataset } from "./dataset.js";
import { DataFormatError } from "./errors.js";

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;

/** A parsed IDX file: labels ([count]) or images ([count, rows, cols]), as unsigned bytes. */
export interface IdxArray {
  /** "labels" (0x00000801) or "images" (0x00000803). */
  kind: "labels" | "images";
  dims: number[];
  /** The items, one byte each, row-major. */
  data: Uint8Array;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses one IDX file (labels or images); `fileName` is for error messages. */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxArray {
  if (bytes.length < 4)
    throw new DataFormatError(fileName, `truncated IDX file: ${bytes.length} bytes, too short for the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== IDX_LABELS_MAGIC && magic !== IDX_IMAGES_MAGIC) {
    const gz = isGzip(bytes) ? " (the file is gzip-compressed: decompress it first)" : "";
    throw new DataFormatError(
      fileName,
      `wrong magic number ${hex(magic)}: expected ${hex(IDX_LABELS_MAGIC)} (labels) or ${hex(IDX_IMAGES_MAGIC)} (images)${gz}`,
    );
  }
  const rank = magic & 0xff;
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    throw new DataFormatError(fileName, `truncated IDX header: ${bytes.length} bytes, the ${rank} dimensions need ${headerSize}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const items = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + items;
  if (bytes.length < expected)
    throw new DataFormatError(
      fileName,
      `truncated IDX data: dimensions [${dims.join(", ")}] need ${expected} bytes, the file has ${bytes.length}`,
    );
  if (bytes.length > expected)
    throw new DataFormatError(
      fileName,
      `${bytes.length - expected} unexpected bytes after the data: dimensions [${dims.join(", ")}] need ${expected} bytes, the file has ${bytes.length}`,
    );
  return { kind: magic === IDX_LABELS_MAGIC ? "labels" : "images", dims, data: bytes.subarray(headerSize, expected) };
}

/** Encodes labels ([count]) or images ([count, rows, cols]) as an IDX file. */
export function encodeIdx(kind: "labels" | "images", dims: number[], data: ArrayLike<number>): Uint8Array {
  const rank = kind === "labels" ? 1 : 3;
  if (dims.length !== rank) throw new DataFormatError("<encodeIdx>", `${kind} need ${rank} dimensions, got [${dims.join(", ")}]`);
  const items = dims.reduce((a, b) => a * b, 1);
  if (data.length !== items) throw new DataFormatError("<encodeIdx>", `${data.length} items for dimensions [${dims.join(", ")}]`);
  const bytes = new Uint8Array(4 + 4 * rank + items);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, kind === "labels" ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(data, 4 + 4 * rank);
  return bytes;
}

/** How `idxToDataset` shapes the features (flat or [1, rows, cols]) and scales the bytes. */
export interface IdxDatasetOptions {
  name?: string;
  /** "flat": [rows × cols] features (default); "image": [1, rows, cols]. */
  shape?: "flat" | "image";
  /** Divide pixels by 255 to lie in [0, 1] (default true), as in the bundled MNIST digits. */
  normalize?: boolean;
}

/**
 * A 10-class dataset from parsed IDX images and labels (MNIST, Fashion-MNIST, ...): checks
 * that the kinds, counts and label range (0..9) agree.
 */
export function idxToDataset(
  images: IdxArray,
  labels: IdxArray,
  files: { images: string; labels: string },
  options: IdxDatasetOptions = {},
): Dataset {
  if (images.kind !== "images")
    throw new DataFormatError(files.images, `expected an images file (magic ${hex(IDX_IMAGES_MAGIC)}), found a labels file`);
  if (labels.kind !== "labels")
    throw new DataFormatError(files.labels, `expected a labels file (magic ${hex(IDX_LABELS_MAGIC)}), found an images file`);
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count)
    throw new DataFormatError(files.labels, `${labels.dims[0]} labels for ${count} images in ${files.images}`);
  for (let i = 0; i < count; i++)
    if (labels.data[i] > 9) throw new DataFormatError(files.labels, `label ${labels.data[i]} of item ${i} is outside 0..9`);
  const scale = options.normalize === false ? 1 : 1 / 255;
  const features = new Float32Array(images.data.length);
  for (let i = 0; i < features.length; i++) features[i] = images.data[i] * scale;
  const featureShape = options.shape === "image" ? [1, rows, cols] : [rows * cols];
  return makeDataset(options.name ?? files.images, features, Int32Array.from(labels.data), featureShape, 10);
}

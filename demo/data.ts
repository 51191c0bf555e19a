// The bundled digits as the demo ships them: mnist.bin (layout in scripts/build-demo.mjs).
import { makeDataset, type Dataset } from "../src/train/data/dataset.js";

/** Reads mnist.bin into a dataset of [784] samples in [0, 1]. */
export async function loadDigits(url: string): Promise<Dataset> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== "PCMN") throw new Error(`${url}: not a digit file (magic ${JSON.stringify(magic)})`);
  const count = view.getUint32(4, true);
  const pixels = view.getUint16(8, true) * view.getUint16(10, true);
  if (bytes.length !== 12 + count + count * pixels) throw new Error(`${url}: ${bytes.length} bytes, expected ${12 + count + count * pixels}`);
  const labels = Int32Array.from(bytes.subarray(12, 12 + count));
  const raw = bytes.subarray(12 + count);
  const features = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) features[i] = raw[i] / 255;
  return makeDataset("mnist (bundled)", features, labels, [pixels], 10);
}

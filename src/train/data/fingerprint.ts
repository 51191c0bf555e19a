// A content fingerprint of datasets: two independent 32-bit multiply-xorshift hashes over
// the float32 bits of every feature, every label and the sample shape, so a run can tell
// whether it is given the data it was trained on (wherever the files now live). Not a
// cryptographic hash: it catches other data, not an adversary.
import type { Dataset } from "./dataset.js";

function mix(h: number, word: number, multiplier: number): number {
  h = Math.imul(h ^ word, multiplier);
  return h ^ (h >>> 15);
}

/** 16 hex digits identifying the samples (features, labels, feature shape) of the datasets, in order. */
export function datasetFingerprint(...datasets: Dataset[]): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const absorb = (words: ArrayLike<number>) => {
    for (let i = 0; i < words.length; i++) {
      a = mix(a, words[i], 0x9e3779b1);
      b = mix(b, words[i], 0x85ebca77);
    }
    a = mix(a, words.length, 0xc2b2ae3d);
    b = mix(b, words.length, 0x27d4eb2f);
  };
  for (const ds of datasets) {
    absorb(ds.featureShape);
    absorb(new Uint32Array(ds.features.buffer, ds.features.byteOffset, ds.features.length));
    absorb(ds.labels);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

// Universal Hopfield Network retrieval beside TF.js (wasm backend, one thread) in this
// process: N = 1000 stored patterns of D = 784, queries in batches of 1 and 256, for each
// similarity; separation softmax(beta = 1000) on normalised scores, as the paper.
// Both sides do the whole retrieval: scores, normalisation, softmax, the projection P^T w and
// reading the result back into JS (TF.js: dataSync), with memory and queries already in
// place and what storing computes once (ours: norms, sums; TF.js: the same and M^T, so its
// score product is an untransposed matmul) made outside the timed function. TF.js computes
// Euclidean distances through the same matmul identity and Manhattan distances by
// broadcasting in chunks of 8 queries (a 1000 x 784 slab each).
// Rounds alternate between the two sides; the headline is the median of per-round ratios.
import { cpus, loadavg } from "node:os";
import type { Tensor as TfTensor } from "@tensorflow/tfjs-core";
import { getBackendByName } from "../../src/backend/load.js";
import type { SimilarityName } from "../../src/memory/similarity.js";
import { UniversalHopfield } from "../../src/memory/universal-hopfield.js";
import { Tensor } from "../../src/tensor.js";
import { tfjsWasm } from "../peer.js";

const N = 1000;
const D = 784;
const BETA = 1000;
const ROUNDS = 5;
const SIMILARITIES: SimilarityName[] = ["dot", "normalizedDot", "cosine", "euclidean", "manhattan"];

function randomFloats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32;
  }
  return out;
}

type Tf = Awaited<ReturnType<typeof tfjsWasm>>;

/** TF.js's side of storing: M, M^T and the per-pattern norms and sums, made once (as ours are). */
interface PeerMemory {
  m: TfTensor;
  transposed: TfTensor;
  norms: TfTensor;
  squaredNorms: TfTensor;
  sums: TfTensor;
}

function peerStore(tf: Tf, patterns: Float32Array): PeerMemory {
  const m = tf.tensor2d(patterns, [N, D]);
  return tf.tidy(() => ({
    m: tf.keep(m),
    // An NN product: TF.js's transposed matmuls are its slow path.
    transposed: tf.transpose(m),
    norms: tf.reshape(tf.norm(m, 2, 1), [1, N]),
    squaredNorms: tf.reshape(tf.sum(tf.square(m), 1), [1, N]),
    sums: tf.reshape(tf.sum(m, 1), [1, N]),
  }));
}

/** TF.js: sim(M, Q) [B, N] as the paper defines it. */
function peerScores(tf: Tf, similarity: SimilarityName, q: TfTensor, memory: PeerMemory): TfTensor {
  return tf.tidy(() => {
    const dots = () => tf.matMul(q, memory.transposed);
    switch (similarity) {
      case "dot": return dots();
      case "normalizedDot": return tf.div(dots(), tf.mul(tf.sum(q, 1, true), memory.sums));
      case "cosine": return tf.div(dots(), tf.mul(tf.norm(q, 2, 1, true), memory.norms));
      case "euclidean": return tf.reciprocal(tf.add(tf.sub(tf.sum(tf.square(q), 1, true), tf.mul(dots(), 2)), memory.squaredNorms));
      case "manhattan": {
        const batch = q.shape[0];
        const chunks: TfTensor[] = [];
        for (let start = 0; start < batch; start += 8) {
          const part = tf.slice(q, [start, 0], [Math.min(8, batch - start), D]);
          chunks.push(tf.sum(tf.abs(tf.sub(tf.expandDims(part, 1), tf.expandDims(memory.m, 0))), 2));
        }
        return tf.reciprocal(chunks.length === 1 ? chunks[0] : tf.concat(chunks, 0));
      }
      default: throw new Error(similarity);
    }
  });
}

function peerRecall(tf: Tf, similarity: SimilarityName, q: TfTensor, memory: PeerMemory): void {
  const z = tf.tidy(() => {
    const s = peerScores(tf, similarity, q, memory);
    const normalised = tf.div(s, tf.sum(tf.abs(s), 1, true));
    return tf.matMul(tf.softmax(tf.mul(normalised, BETA)), memory.m);
  });
  z.dataSync();
  z.dispose();
}

/** Seconds per call: enough calls for ~0.25 s, after one warm-up call. */
function secondsPerCall(fn: () => void): number {
  fn();
  let calls = 0;
  const start = performance.now();
  do {
    fn();
    calls++;
  } while (performance.now() - start < 250);
  return (performance.now() - start) / 1000 / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchMemory(): Promise<void> {
  const tf = await tfjsWasm();
  const backend = getBackendByName("wasm-simd");
  const patterns = randomFloats(N * D, 1);
  const rows: string[] = [];
  for (const batch of [1, 256]) {
    const queryData = randomFloats(batch * D, 2 + batch);
    const queries = new Tensor([batch, D], backend).assign(queryData);
    const tfQueries = tf.tensor2d(queryData, [batch, D]);
    const tfMemory = peerStore(tf, patterns);
    for (const similarity of SIMILARITIES) {
      const memory = new UniversalHopfield({ similarity, separation: { kind: "softmax", beta: BETA }, backend });
      memory.store(Array.from({ length: N }, (_, i) => patterns.subarray(i * D, (i + 1) * D)));
      const ours = () => {
        const z = memory.recall(queries);
        z.dataSync();
        z.dispose();
      };
      const peer = () => peerRecall(tf, similarity, tfQueries, tfMemory);
      const oursTimes: number[] = [];
      const peerTimes: number[] = [];
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const a = secondsPerCall(ours);
        const b = secondsPerCall(peer);
        oursTimes.push(a);
        peerTimes.push(b);
        ratios.push(b / a);
      }
      memory.dispose();
      const qps = (seconds: number) => (batch / seconds).toFixed(0);
      rows.push(`| ${similarity} | ${batch} | ${qps(median(oursTimes))} | ${qps(median(peerTimes))} | ${median(ratios).toFixed(2)}x |`);
    }
    queries.dispose();
    tfQueries.dispose();
    for (const t of Object.values(tfMemory)) t.dispose();
  }
  console.log(`\nUHN retrieval, N = ${N} stored, D = ${D}, softmax(beta=${BETA}) on normalised scores (queries/s, median of ${ROUNDS} interleaved rounds)`);
  console.log(`host: ${cpus()[0]?.model ?? "unknown cpu"} x ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log("| similarity | batch | pcgraph | TF.js wasm | ratio (median per round) |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
}

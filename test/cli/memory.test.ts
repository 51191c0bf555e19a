// `pcgraph memory store|recall|capacity` in process, the memory file format, and the PNG
// encoder behind the image grids.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runCli } from "../../src/cli/main.js";
import { SerializationError } from "../../src/graph/errors.js";
import { decodeMemoryFile, encodeMemoryFile, loadMemoryFile } from "../../src/node/memory-file.js";
import { loadPCGraphCheckpoint } from "../../src/node/checkpoint-files.js";
import { encodeGreyPng } from "../../src/node/png.js";
import { crc32 } from "../../src/train/crc32.js";
import { memory } from "../../src/tensor.js";

const test = suite("cli memory");
const temp = mkdtempSync(join(tmpdir(), "pcgraph-memory-"));

async function pcgraph(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const before = memory().numTensors;
  const code = await runCli(args, (line) => out.push(line), (line) => err.push(line));
  assert.is(memory().numTensors, before, `pcgraph ${args.join(" ")} leaked tensors`);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

test("store writes a memory file; recall prints the errors and writes SVG and PNG grids", async () => {
  const file = join(temp, "digits.pcgm");
  const stored = await pcgraph("memory", "store", "--data", "mnist", "--count", "20", "--seed", "3", "--out", file);
  assert.is(stored.code, 0, stored.stderr);
  const loaded = loadMemoryFile(file);
  assert.is(loaded.count, 20);
  assert.is(loaded.patternSize, 784);
  assert.equal(loaded.imageShape, [1, 28, 28]);
  // The masked bottom half with Euclidean similarity: the known top half matches exactly.
  const svg = join(temp, "recall.svg");
  const recalled = await pcgraph("memory", "recall", file, "--corrupt", "masked:0.5", "--similarity", "euclidean", "--count", "4", "--out", svg);
  assert.is(recalled.code, 0, recalled.stderr);
  assert.match(recalled.stdout, "recalled 4 of 4");
  assert.match(readFileSync(svg, "utf8"), /<image [^>]*href="data:image\/png;base64,/);
  const png = join(temp, "recall.png");
  assert.is((await pcgraph("memory", "recall", file, "--corrupt", "noise:0.3", "--separation", "softmax:100", "--out", png)).code, 0);
  assert.equal(Array.from(readFileSync(png).subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
});

test("capacity prints a table per corruption and criterion with the floor, and writes the plot", async () => {
  const plot = join(temp, "capacity.svg");
  const result = await pcgraph("memory", "capacity", "--sizes", "2,8", "--seeds", "1", "--similarity", "manhattan,dot",
    "--separation", "max", "--corrupt", "zeroed:0.5,noise:0.2", "--out", plot);
  assert.is(result.code, 0, result.stderr);
  assert.is((result.stdout.match(/mean of stored \(floor\)/g) ?? []).length, 4);
  assert.match(result.stdout, "| manhattan, max |");
  assert.ok(existsSync(plot));
  assert.match(readFileSync(plot, "utf8"), "<svg");
});

test("store --method pc trains a PC memory into a PC-graph checkpoint; recall draws its images again and completes them", async () => {
  const file = join(temp, "digits.ckpt");
  const stored = await pcgraph("memory", "store", "--method", "pc", "--data", "mnist", "--count", "6", "--seed", "2", "--hidden", "48", "--epochs", "300", "--out", file);
  assert.is(stored.code, 0, stored.stderr);
  assert.match(stored.stdout, /PC memory \(memory 48 -> hidden 48 -> 784, tanh, ipc\): 6 images/);
  const checkpoint = loadPCGraphCheckpoint(file);
  assert.is((checkpoint.progress as { kind: string }).kind, "pc-memory");
  assert.equal((checkpoint.progress as { patterns: { count: number; seed: number } }).patterns.count, 6);
  assert.equal(checkpoint.model.groups.map((g) => g.name), ["sensory", "hidden", "memory"]);
  checkpoint.model.dispose();
  const png = join(temp, "pc-recall.png");
  const recalled = await pcgraph("memory", "recall", file, "--corrupt", "masked:0.5", "--count", "3", "--out", png);
  assert.is(recalled.code, 0, recalled.stderr);
  assert.match(recalled.stdout, "recalled 3 of 3 (MSE < 0.001)");
  assert.equal(Array.from(readFileSync(png).subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const refused = await pcgraph("memory", "recall", file, "--separation", "max");
  assert.is(refused.code, 2);
  assert.match(refused.stderr, "--separation applies to a UHN memory file");
});

test("capacity --method pc,ae: a row per network, with the PC-memory paper's MSE criteria", async () => {
  const result = await pcgraph("memory", "capacity", "--method", "pc,ae", "--hidden", "16", "--sizes", "2,3", "--seeds", "1", "--epochs", "5", "--corrupt", "masked:0.5");
  assert.is(result.code, 0, result.stderr);
  for (const criterion of ["paper", "strict", "mse<0.005", "mse<0.001"]) assert.match(result.stdout, `bottom 0.5 masked, ${criterion} criterion`);
  assert.is((result.stdout.match(/\| PC memory, hidden 16 \|/g) ?? []).length, 4);
  assert.is((result.stdout.match(/\| autoencoder, hidden 16 \|/g) ?? []).length, 4);
});

test("usage errors exit 2 and name the flag", async () => {
  const cases: [string[], string][] = [
    [["memory", "forget"], "unknown action"],
    [["memory", "recall"], "needs the MEMORY file"],
    [["memory", "store", "--count", "5"], "needs --out"],
    [["memory", "capacity", "--separation", "softmax:0"], "--separation.beta"],
    [["memory", "capacity", "--corrupt", "blur:1"], "unknown kind"],
    [["memory", "capacity", "--corrupt", "masked:1.5"], "--corrupt.fraction"],
    [["memory", "capacity", "--similarity", "hamming"], "--similarity must be one of"],
    [["memory", "capacity", "--sizes", "10,x"], "--sizes"],
    [["memory", "recall", "x.pcgm", "--similarity", "dot,cosine"], "takes one value"],
    [["memory", "recall", "x.pcgm", "--sizes", "10"], "--sizes does not apply to memory recall"],
    [["memory", "store", "--out", "x.pcgm", "--corrupt", "noise:1"], "--corrupt does not apply to memory store"],
    [["memory", "capacity", "--count", "3"], "--count does not apply to memory capacity"],
    [["memory", "store", "extra.pcgm", "--out", "x.pcgm"], "takes no MEMORY file"],
    [["memory", "store", "--out", "x.ckpt", "--method", "ae"], '--method: "ae" is not one of uhn, pc'],
    [["memory", "store", "--out", "x.ckpt", "--method", "pc", "--hidden", "8,16"], "--hidden: memory store takes one width"],
    [["memory", "store", "--out", "x.pcgm", "--hidden", "64"], "--hidden applies to --method pc or ae only"],
    [["memory", "capacity", "--method", "pc", "--similarity", "dot"], "--similarity applies to --method uhn only"],
    [["memory", "capacity", "--method", "pc", "--hidden", "0"], "--hidden"],
  ];
  for (const [args, message] of cases) {
    const result = await pcgraph(...args);
    assert.is(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  const missing = await pcgraph("memory", "recall", join(temp, "absent.pcgm"));
  assert.is(missing.code, 1);
  assert.match(missing.stderr, "cannot read the memory file");
});

test("the memory file round-trips, and a damaged one is refused with the reason", () => {
  const file = { count: 2, patternSize: 3, imageShape: [1, 1, 3] as [number, number, number], source: "test", patterns: Float32Array.from([0, 0.5, 1, 0.25, 0.75, 1]) };
  const bytes = encodeMemoryFile(file);
  assert.equal(decodeMemoryFile(bytes), file);
  const flipped = bytes.slice();
  flipped[bytes.length - 8] ^= 1;
  assert.throws(() => decodeMemoryFile(flipped), (e: Error) => e instanceof SerializationError && /checksum/.test(e.message));
  assert.throws(() => decodeMemoryFile(bytes.subarray(0, 30)), (e: Error) => e instanceof SerializationError);
  const wrongMagic = bytes.slice();
  wrongMagic[0] = 65;
  assert.throws(() => decodeMemoryFile(wrongMagic), (e: Error) => /not a pcgraph memory file/.test(e.message));
  const path = join(temp, "bad.pcgm");
  writeFileSync(path, flipped);
  assert.throws(() => loadMemoryFile(path), (e: Error) => e.message.includes(path));
});

test("PNG: signature, chunks with valid CRCs, and the pixels back from the compressed data", () => {
  const width = 5;
  const height = 3;
  const pixels = Uint8Array.from({ length: width * height }, (_, i) => (i * 37) % 256);
  const png = encodeGreyPng({ width, height, pixels });
  assert.equal(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    assert.is(view.getUint32(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push({ type, data });
    at += 12 + length;
  }
  assert.equal(chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const header = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
  assert.equal([header.getUint32(0), header.getUint32(4), chunks[0].data[8], chunks[0].data[9]], [width, height, 8, 0]);
  const raw = inflateSync(chunks[1].data);
  for (let y = 0; y < height; y++) {
    assert.is(raw[y * (width + 1)], 0, "filter type none");
    assert.equal(Array.from(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1))), Array.from(pixels.subarray(y * width, (y + 1) * width)));
  }
});

test.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { InvalidArgumentError, ShapeError } from "../../src/backend/errors.js";
import { loadCsvDataset, loadIdxDataset } from "../../src/node/datasets.js";
import { parseCsv } from "../../src/train/data/csv.js";
import { batches, makeDataset, oneHot, shuffledIndices, subset, trainTestSplit, type Dataset } from "../../src/train/data/dataset.js";
import { DataFormatError } from "../../src/train/data/errors.js";
import { encodeIdx, idxToDataset, parseIdx } from "../../src/train/data/idx.js";
import { seed } from "../arbitraries.js";

const data = suite("datasets, batches, IDX and CSV");

/** A dataset whose sample i has features [i, -i, i/2] and label i mod numClasses. */
function indexed(size: number, numClasses = 3): Dataset {
  const features = new Float32Array(size * 3);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    features.set([i, -i, i / 2], i * 3);
    labels[i] = i % numClasses;
  }
  return makeDataset("indexed", features, labels, [3], numClasses);
}

/** The original index of each row (its first feature). */
const rowsOf = (ds: Dataset) => Array.from({ length: ds.size }, (_, i) => ds.features[i * 3]);

/** Runs `fn`, expects a DataFormatError whose message matches every pattern. */
function throwsData(fn: () => unknown, ...patterns: RegExp[]): DataFormatError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof DataFormatError)) throw new Error(`expected a DataFormatError, got ${String(error)}`);
    for (const p of patterns) if (!p.test(error.message)) throw new Error(`"${error.message}" does not match ${p}`);
    return error;
  }
  throw new Error("expected a DataFormatError, nothing was thrown");
}

data("makeDataset rejects size mismatches and labels out of range, naming the dataset", () => {
  assert.throws(() => makeDataset("toy", new Float32Array(5), new Int32Array(2), [3], 2), (e: Error) =>
    e instanceof ShapeError && /"toy"/.test(e.message) && /expected 2 × 3 = 6/.test(e.message));
  assert.throws(() => makeDataset("toy", new Float32Array(6), new Int32Array([0, 2]), [3], 2), (e: Error) =>
    e instanceof InvalidArgumentError && /"toy"/.test(e.message) && /label 2 of sample 1/.test(e.message));
  assert.throws(() => makeDataset("toy", new Float32Array(6), [0, 0.5], [3], 2), (e: Error) => e instanceof InvalidArgumentError);
  assert.throws(() => makeDataset("toy", new Float32Array(0), new Int32Array(0), [0], 2), (e: Error) => e instanceof ShapeError);
  const ds = makeDataset("toy", [1, 2, 3, 4, 5, 6], [1, 0], [3], 2);
  assert.instance(ds.features, Float32Array);
  assert.equal(Array.from(subset(ds, [1, 1, 0]).labels), [0, 0, 1]);
  assert.throws(() => subset(ds, [2]), /outside dataset "toy"/);
});

data("a seeded split is disjoint, covers every sample and has round(size × fraction) test samples", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), seed, (size, fraction, s) => {
      const ds = indexed(size);
      const { train, test } = trainTestSplit(ds, fraction, s);
      assert.is(test.size, Math.round(size * fraction));
      const all = [...rowsOf(train), ...rowsOf(test)].sort((a, b) => a - b);
      assert.equal(all, Array.from({ length: size }, (_, i) => i));
      for (const part of [train, test])
        for (let i = 0; i < part.size; i++) assert.is(part.labels[i], part.features[i * 3] % 3);
      const again = trainTestSplit(ds, fraction, s);
      assert.equal(rowsOf(again.test), rowsOf(test));
    }),
    { numRuns: 100 },
  );
});

data("batches visit every index exactly once per epoch, with matching features, labels and one-hot rows", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 64 }), seed, fc.boolean(), fc.boolean(), fc.boolean(),
      (size, batchSize, s, shuffle, dropRemainder, reuseBuffers) => {
        const ds = indexed(size, 4);
        const epoch = batches(ds, batchSize, { seed: s, shuffle, dropRemainder, reuseBuffers });
        const seen: number[] = [];
        let count = 0;
        for (const b of epoch) {
          count++;
          assert.ok(b.size === batchSize || (!dropRemainder && b.size < batchSize && count === epoch.length));
          for (let i = 0; i < b.size; i++) {
            const index = b.indices[i];
            seen.push(index);
            assert.is(b.features[i * 3], index);
            assert.is(b.features[i * 3 + 2], index / 2);
            assert.is(b.labels[i], index % 4);
            for (let c = 0; c < 4; c++) assert.is(b.oneHot[i * 4 + c], c === index % 4 ? 1 : 0);
          }
        }
        assert.is(count, epoch.length);
        const expected = dropRemainder ? Math.floor(size / batchSize) * batchSize : size;
        assert.is(seen.length, expected);
        assert.is(new Set(seen).size, expected);
        if (!dropRemainder) assert.equal([...seen].sort((a, b) => a - b), Array.from({ length: size }, (_, i) => i));
        if (!shuffle) assert.equal(seen, Array.from({ length: expected }, (_, i) => i));
      }),
    { numRuns: 150 },
  );
});

data("the same seed gives the same order and a different seed a different order", () => {
  fc.assert(
    fc.property(fc.integer({ min: 12, max: 500 }), seed, seed, (size, a, b) => {
      fc.pre(a !== b);
      const ds = indexed(size);
      const order = (s: number) => [...batches(ds, 7, { seed: s })].flatMap((x) => Array.from(x.indices));
      assert.equal(order(a), order(a));
      assert.not.equal(order(a), order(b));
      assert.equal(Array.from(shuffledIndices(size, a)), Array.from(batches(ds, 7, { seed: a }).order));
    }),
    { numRuns: 100 },
  );
});

data("one-hot rows sum to 1 with the 1 at the label", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }).chain((k) => fc.tuple(fc.constant(k), fc.array(fc.integer({ min: 0, max: k - 1 }), { maxLength: 50 }))),
      ([k, labels]) => {
        const rows = oneHot(Int32Array.from(labels), k);
        assert.is(rows.length, labels.length * k);
        labels.forEach((label, i) => {
          const row = Array.from(rows.subarray(i * k, (i + 1) * k));
          assert.is(row.reduce((a, b) => a + b, 0), 1);
          assert.is(row.indexOf(1), label);
        });
      }),
  );
  assert.throws(() => oneHot(Int32Array.from([3]), 3), (e: Error) => e instanceof InvalidArgumentError);
});

// ---- IDX ----

const idxCase = fc.record({
  count: fc.integer({ min: 0, max: 20 }),
  rows: fc.integer({ min: 1, max: 6 }),
  cols: fc.integer({ min: 1, max: 6 }),
  seed,
});

function idxFiles({ count, rows, cols, seed: s }: { count: number; rows: number; cols: number; seed: number }) {
  const pixels = Uint8Array.from({ length: count * rows * cols }, (_, i) => (i * 37 + s) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i + s) % 10);
  return { pixels, labels, images: encodeIdx("images", [count, rows, cols], pixels), labelBytes: encodeIdx("labels", [count], labels) };
}

data("IDX round trip of generated images and labels, in memory and from plain and .gz files", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-idx-"));
  try {
    fc.assert(
      fc.property(idxCase, fc.boolean(), fc.boolean(), (c, gzImages, gzLabels) => {
        const f = idxFiles(c);
        const parsed = parseIdx(f.images, "images.idx");
        assert.is(parsed.kind, "images");
        assert.equal(parsed.dims, [c.count, c.rows, c.cols]);
        assert.equal(Array.from(parsed.data), Array.from(f.pixels));
        const imagesPath = join(dir, gzImages ? "images.idx.gz" : "images.idx");
        const labelsPath = join(dir, gzLabels ? "labels.idx.gz" : "labels.idx");
        writeFileSync(imagesPath, gzImages ? gzipSync(f.images) : f.images);
        writeFileSync(labelsPath, gzLabels ? gzipSync(f.labelBytes) : f.labelBytes);
        const ds = loadIdxDataset(imagesPath, labelsPath, "generated");
        assert.is(ds.name, "generated");
        assert.is(ds.size, c.count);
        assert.equal(ds.featureShape, [c.rows * c.cols]);
        assert.is(ds.numClasses, 10);
        assert.equal(Array.from(ds.labels), Array.from(f.labels));
        for (let i = 0; i < f.pixels.length; i++) assert.is(ds.features[i], Math.fround(f.pixels[i] / 255));
        const image = loadIdxDataset(imagesPath, labelsPath, undefined, { shape: "image", normalize: false });
        assert.equal(image.featureShape, [1, c.rows, c.cols]);
        assert.equal(Array.from(image.features), Array.from(f.pixels));
      }),
      { numRuns: 40 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

data("an IDX file truncated at any byte gives a 'truncated' error naming the file", () => {
  fc.assert(
    fc.property(idxCase.filter((c) => c.count > 0), fc.boolean(), fc.nat(), (c, useImages, cut) => {
      const f = idxFiles(c);
      const bytes = useImages ? f.images : f.labelBytes;
      const at = cut % bytes.length;
      throwsData(() => parseIdx(bytes.subarray(0, at), "train-x.idx"), /^train-x\.idx: /, /truncated/);
    }),
  );
});

data("an IDX file with a changed magic number gives a 'wrong magic number' error naming the file", () => {
  fc.assert(
    fc.property(idxCase, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 255 }), (c, position, mask) => {
      const bytes = idxFiles(c).images.slice();
      bytes[position] ^= mask;
      const magic = new DataView(bytes.buffer).getUint32(0, false);
      fc.pre(magic !== 0x801 && magic !== 0x803);
      throwsData(() => parseIdx(bytes, "imgs.idx"), /^imgs\.idx: /, /wrong magic number/);
    }),
  );
});

data("IDX images and labels with different counts, extra bytes, swapped kinds or labels above 9 give named errors", () => {
  fc.assert(
    fc.property(idxCase, fc.integer({ min: 0, max: 20 }), (c, otherCount) => {
      fc.pre(otherCount !== c.count);
      const f = idxFiles(c);
      const labels = encodeIdx("labels", [otherCount], new Uint8Array(otherCount));
      const files = { images: "imgs.idx", labels: "lbls.idx" };
      throwsData(() => idxToDataset(parseIdx(f.images, files.images), parseIdx(labels, files.labels), files),
        /^lbls\.idx: /, new RegExp(`${otherCount} labels for ${c.count} images in imgs\\.idx`));
    }),
  );
  fc.assert(
    fc.property(idxCase.filter((c) => c.count > 0), fc.nat(), fc.integer({ min: 10, max: 255 }), (c, which, bad) => {
      const f = idxFiles(c);
      const labels = f.labels.slice();
      labels[which % c.count] = bad;
      const files = { images: "imgs.idx", labels: "lbls.idx" };
      throwsData(() => idxToDataset(parseIdx(f.images, files.images), parseIdx(encodeIdx("labels", [c.count], labels), files.labels), files),
        /^lbls\.idx: /, new RegExp(`label ${bad} of item ${which % c.count} is outside 0\\.\\.9`));
    }),
  );
  const f = idxFiles({ count: 2, rows: 2, cols: 2, seed: 1 });
  throwsData(() => parseIdx(Uint8Array.from([...f.labelBytes, 0]), "l.idx"), /^l\.idx: /, /1 unexpected bytes after the data/);
  const files = { images: "a.idx", labels: "b.idx" };
  throwsData(() => idxToDataset(parseIdx(f.labelBytes, "a.idx"), parseIdx(f.labelBytes, "b.idx"), files), /^a\.idx: /, /expected an images file/);
  throwsData(() => parseIdx(gzipSync(f.images), "x.gz"), /wrong magic number/, /gzip/);
});

data("loading a missing or corrupt .gz IDX file names the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-idx-"));
  try {
    const f = idxFiles({ count: 3, rows: 2, cols: 2, seed: 4 });
    const gz = gzipSync(f.images);
    writeFileSync(join(dir, "bad.gz"), gz.subarray(0, gz.length - 6));
    writeFileSync(join(dir, "labels.idx"), f.labelBytes);
    throwsData(() => loadIdxDataset(join(dir, "bad.gz"), join(dir, "labels.idx")), /bad\.gz: /, /corrupt gzip/);
    throwsData(() => loadIdxDataset(join(dir, "missing.idx"), join(dir, "labels.idx")), /missing\.idx: cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- CSV ----

const csvTable = fc.record({
  rows: fc.integer({ min: 1, max: 15 }),
  features: fc.integer({ min: 1, max: 5 }),
  seed,
});

function csvText({ rows, features, seed: s }: { rows: number; features: number; seed: number }, header: boolean) {
  const values = Array.from({ length: rows }, (_, r) => Array.from({ length: features }, (_, c) => ((r * 7 + c * 13 + s) % 200) / 8 - 10));
  const labels = Array.from({ length: rows }, (_, r) => (r + s) % 4);
  const lines = values.map((row, r) => [...row.map(String), String(labels[r])].join(","));
  const names = [...Array.from({ length: features }, (_, c) => `f${c}`), "label"];
  return { values, labels, text: (header ? [names.join(","), ...lines] : lines).join("\r\n") + "\r\n" };
}

data("CSV round trip with and without a header, label column last or named", () => {
  fc.assert(
    fc.property(csvTable, fc.boolean(), (t, header) => {
      const { values, labels, text } = csvText(t, header);
      const ds = parseCsv(text, { fileName: "t.csv" });
      assert.is(ds.size, t.rows);
      assert.equal(ds.featureShape, [t.features]);
      assert.is(ds.numClasses, Math.max(...labels) + 1);
      assert.equal(Array.from(ds.labels), labels);
      assert.equal(Array.from(ds.features), values.flat().map(Math.fround));
      if (header) assert.equal(Array.from(parseCsv(text, { fileName: "t.csv", labelColumn: "label" }).labels), labels);
    }),
    { numRuns: 60 },
  );
  const first = parseCsv("label,a,b\n2,0.5,1e3\n0,-1,\"7\"\n", { labelColumn: 0, fileName: "x.csv" });
  assert.equal(Array.from(first.features), [0.5, 1000, -1, 7]);
  assert.equal(Array.from(first.labels), [2, 0]);
  // A negative label column counts from the end: -1 is the last column, -3 the first here.
  const table = "1,2,0\n3,4,1\n";
  assert.equal(Array.from(parseCsv(table, { labelColumn: -1, fileName: "n.csv" }).labels), [0, 1]);
  const fromEnd = parseCsv(table, { labelColumn: -3, fileName: "n.csv" });
  assert.equal(Array.from(fromEnd.labels), [1, 3]);
  assert.equal(Array.from(fromEnd.features), [2, 0, 4, 1]);
});

data("every CSV corruption gives an error naming the file, line and column", () => {
  fc.assert(
    fc.property(csvTable, fc.nat(), fc.nat(), fc.constantFrom("abc", "", "1..2", "0x10", "NaN", "Infinity"), (t, r, c, bad) => {
      const { text } = csvText(t, true);
      const lines = text.split("\r\n");
      const row = 1 + (r % t.rows);
      const column = c % (t.features + 1);
      const fields = lines[row].split(",");
      fields[column] = bad;
      lines[row] = fields.join(",");
      const e = throwsData(() => parseCsv(lines.join("\n"), { fileName: "d.csv" }), new RegExp(`^d\\.csv:${row + 1}:${column + 1}: `));
      assert.is(e.line, row + 1);
      assert.is(e.column, column + 1);
    }),
  );
  fc.assert(
    fc.property(csvTable, fc.nat(), fc.boolean(), (t, r, extra) => {
      const { text } = csvText(t, false);
      const lines = text.split("\r\n");
      const row = r % t.rows;
      lines[row] = extra ? `${lines[row]},1` : lines[row].split(",").slice(1).join(",");
      fc.pre(t.rows > 1 && (row > 0 || extra || t.features > 1));
      const e = throwsData(() => parseCsv(lines.join("\n"), { fileName: "r.csv", header: false }), /^r\.csv:\d+: /, /fields, expected/);
      assert.is(e.line, row === 0 ? 2 : row + 1);
    }),
  );
  throwsData(() => parseCsv("", { fileName: "e.csv" }), /^e\.csv: empty file/);
  throwsData(() => parseCsv("\n  \n", { fileName: "e.csv" }), /^e\.csv: empty file/);
  throwsData(() => parseCsv("a,b\n", { fileName: "h.csv" }), /^h\.csv:1: no data rows/);
  throwsData(() => parseCsv("1,2\n3,-1\n", { fileName: "n.csv" }), /^n\.csv:2:2: label -1 must be an integer >= 0/);
  throwsData(() => parseCsv("1,2\n3,1.5\n", { fileName: "n.csv" }), /^n\.csv:2:2: label 1\.5/);
  throwsData(() => parseCsv("1,2\n", { fileName: "n.csv", labelColumn: "y" }), /has no header/);
});

data("loadCsvDataset reads a file and names it in errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-csv-"));
  try {
    writeFileSync(join(dir, "ok.csv"), "x,y,label\n1,2,0\n3,4,1\n");
    writeFileSync(join(dir, "bad.csv"), "x,y,label\n1,2,0\n3,oops,1\n");
    const ds = loadCsvDataset(join(dir, "ok.csv"));
    assert.is(ds.name, join(dir, "ok.csv"));
    assert.equal(Array.from(ds.features), [1, 2, 3, 4]);
    throwsData(() => loadCsvDataset(join(dir, "bad.csv")), /bad\.csv:3:2: "oops" is not a number \(column "y"\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

data.run();

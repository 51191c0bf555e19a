// The number of classes a CSV file can ask for is bounded: one stray large label must not
// size the model's output layer (a label of 7,000,000 would build a 7M-way output).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_MAX_CLASSES, parseCsv } from "../../src/train/data/csv.js";
import { DataFormatError } from "../../src/train/data/errors.js";

const test = suite("class limit");

function refused(text: string, options: Parameters<typeof parseCsv>[1], ...parts: string[]): void {
  try {
    parseCsv(text, options);
  } catch (error) {
    assert.instance(error, DataFormatError);
    for (const part of parts) assert.match((error as Error).message, part);
    return;
  }
  assert.unreachable(`expected a DataFormatError mentioning ${parts.join(", ")}`);
}

test("a label of 7,000,000 is refused naming file:line:col, the class count, the limit and the distinct labels", () => {
  const rows = ["x,y,label", "0.1,0.2,0", "0.3,0.4,1", "0.5,0.6,7000000", "0.7,0.8,1"];
  refused(rows.join("\n"), { fileName: "huge.csv" }, "huge.csv:4:3", "label 7000000", "7,000,001 classes", "10,000", "3 distinct labels", "0..2");
});

test("the limit is exactly maxClasses classes: label maxClasses - 1 loads, label maxClasses does not", () => {
  assert.is(DEFAULT_MAX_CLASSES, 10_000);
  assert.is(parseCsv(`1,${DEFAULT_MAX_CLASSES - 1}\n2,0\n`, { fileName: "a.csv" }).numClasses, DEFAULT_MAX_CLASSES);
  refused(`1,${DEFAULT_MAX_CLASSES}\n2,0\n`, { fileName: "b.csv" }, "b.csv:1:2", "10,001 classes");
  assert.is(parseCsv("1,11\n2,0\n", { fileName: "c.csv", maxClasses: 12 }).numClasses, 12);
  refused("1,12\n2,0\n", { fileName: "d.csv", maxClasses: 12 }, "d.csv:1:2", "limit of 12");
  refused("1,0\n", { fileName: "e.csv", maxClasses: 0 }, "maxClasses must be an integer >= 1");
});

test.run();

// Adds up the counts every runtime wrote to test-results/<runtime>.json and prints the one
// closing line CI reads. A runtime listed on the command line whose file is missing counts
// as one failure. Exits non-zero when anything failed.
//
// It also compares the values suites recorded (test/harness/records.ts) across runtimes:
// each recorded key — e.g. the fingerprint of the weights after k training steps — must be
// reported with the same value by every listed runtime that ran the file that records it.
// A missing or differing value counts as one failure and is shown in the table.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDir = process.env.PCGRAPH_TEST_RESULTS ?? join(root, "test-results");
const runtimes = process.argv.slice(2);
let passed = 0;
let failed = 0;
const reports = new Map();
for (const runtime of runtimes) {
  const file = join(resultsDir, `${runtime}.json`);
  if (!existsSync(file)) {
    console.log(`${runtime}: no results (the run did not finish)`);
    failed += 1;
    continue;
  }
  const counts = JSON.parse(readFileSync(file, "utf8"));
  reports.set(runtime, counts);
  console.log(`${runtime}: ${counts.passed} passed, ${counts.failed} failed`);
  passed += counts.passed;
  failed += counts.failed;
}

// ---- recorded values across runtimes ------------------------------------------------------
const keys = new Map(); // key -> { file, values: Map<runtime, value> }
for (const [runtime, report] of reports)
  for (const { key, value, file } of report.records ?? []) {
    if (!keys.has(key)) keys.set(key, { file, values: new Map() });
    keys.get(key).values.set(runtime, value);
  }
if (keys.size) {
  const ran = (report, file) => Array.isArray(report.files) && report.files.includes(file);
  const columns = runtimes.filter((r) => reports.has(r) && [...keys.values()].some(({ file }) => ran(reports.get(r), file)));
  console.log(`\nrecorded values across runtimes (${columns.join(", ")}):`);
  for (const [key, { file, values }] of keys) {
    const expected = columns.filter((r) => ran(reports.get(r), file));
    const missing = expected.filter((r) => !values.has(r));
    const distinct = new Set(values.values());
    const ok = missing.length === 0 && distinct.size === 1;
    if (!ok) failed += 1;
    const cells = columns.map((r) => `${r} ${values.get(r) ?? (expected.includes(r) ? "MISSING" : "-")}`);
    console.log(`  ${ok ? "same" : "DIFF"}  ${key}\n        ${cells.join("  ")}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

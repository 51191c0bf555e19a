// Adds up the counts every runtime wrote to test-results/<runtime>.json and prints the one
// closing line CI reads. A runtime listed on the command line whose file is missing counts
// as one failure. Exits non-zero when anything failed.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runtimes = process.argv.slice(2);
let passed = 0;
let failed = 0;
for (const runtime of runtimes) {
  const file = join(root, "test-results", `${runtime}.json`);
  if (!existsSync(file)) {
    console.log(`${runtime}: no results (the run did not finish)`);
    failed += 1;
    continue;
  }
  const counts = JSON.parse(readFileSync(file, "utf8"));
  console.log(`${runtime}: ${counts.passed} passed, ${counts.failed} failed`);
  passed += counts.passed;
  failed += counts.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

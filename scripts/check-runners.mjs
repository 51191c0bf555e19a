// Checks that a runtime's test runner reports every kind of failure with its name: runs the
// runner on test/harness/fixtures/hook-failures.fixture.ts (suites whose failures uvu 0.5
// would hide: a throwing after-each, before or after hook, and a plain failure) and
// expects each suite among the named failures, the totals "2 passed, 6 failed" and a
// failing exit code.
//
//   node scripts/check-runners.mjs node deno bun browser
//
// Results of these runs go to a temporary directory, never over test-results/.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./test-files.mjs";

const FIXTURE = "test/harness/fixtures/hook-failures.fixture.ts";
export const expected = [
  { suite: "fixture: after-each hook throws after a failing test", test: /2 of 3 tests after test #1/ },
  { suite: "fixture: before hook throws", test: /2 of 2 tests after test #0/ },
  { suite: "fixture: after hook throws", test: /after hook/ },
  { suite: "fixture: plain failure", test: /^fails with its name$/ },
];
const EXPECTED_TOTALS = { passed: 2, failed: 6 };

/** Runs one runtime's runner on the fixture; returns the problems found (empty when it reported everything). */
export function checkRunner(runtime) {
  const results = mkdtempSync(join(tmpdir(), `pcgraph-check-${runtime}-`));
  try {
    const script = runtime === "browser" ? "run-browser-tests.mjs" : "run-runtime-tests.mjs";
    const args = runtime === "browser" ? [FIXTURE] : [runtime, FIXTURE];
    const run = spawnSync(process.execPath, [join(root, "scripts", script), ...args], {
      cwd: root, encoding: "utf8", timeout: 5 * 60_000, env: { ...process.env, PCGRAPH_TEST_RESULTS: results },
    });
    const output = `${run.stdout}\n${run.stderr}`;
    const problems = [];
    if (run.status === 0) problems.push(`the ${runtime} runner exited 0 although the fixture fails`);
    const label = runtime === "node" ? "" : `${runtime}: `;
    const totals = `${label}${EXPECTED_TOTALS.passed} passed, ${EXPECTED_TOTALS.failed} failed`;
    if (!output.includes(totals)) problems.push(`the ${runtime} runner did not end with "${totals}"`);
    let report;
    try {
      report = JSON.parse(readFileSync(join(results, `${runtime}.json`), "utf8"));
    } catch (error) {
      problems.push(`no readable ${runtime}.json: ${error.message}`);
      return { problems, output };
    }
    for (const { suite, test } of expected) {
      const found = report.failures.find((f) => f.suite === suite && test.test(f.test));
      if (!found) problems.push(`${runtime}: no failure named for suite "${suite}" (test ${test})`);
      if (!new RegExp(`FAIL\\s+${suite.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`).test(output))
        problems.push(`${runtime}: no FAIL line printed for suite "${suite}"`);
    }
    return { problems, output };
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runtimes = process.argv.slice(2);
  let failed = 0;
  for (const runtime of runtimes.length ? runtimes : ["node", "deno", "bun", "browser"]) {
    const { problems, output } = checkRunner(runtime);
    if (problems.length) {
      failed += 1;
      console.log(output);
      console.log(`${runtime} runner: FAIL\n  ${problems.join("\n  ")}`);
    } else console.log(`${runtime} runner: reports every fixture failure by name`);
  }
  process.exit(failed ? 1 : 0);
}

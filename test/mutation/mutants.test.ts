// The mutant list of `npm run test:mutation` (test/mutation/mutants.json) stays usable: every
// mutant's text occurs exactly once in its file, so a change to the code that moves a
// mutant's target is noticed here rather than silently skipped; and a mutant whose text is
// not found is reported as an error by the script.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const script = join(root, "scripts", "mutation.mjs");
const mutants = suite("mutation list");

function check(...extra: string[]) {
  const run = spawnSync(process.execPath, [script, "--check", ...extra], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

mutants("every mutant's text occurs exactly once in its file (at least 25 mutants)", () => {
  const { status, output } = check();
  assert.is(status, 0, output);
  const total = Number(/(\d+) mutants: (\d+) found exactly once/.exec(output)?.[1]);
  assert.ok(total >= 25, output);
});

mutants("a mutant whose text is not found, or found twice, is an error, not a skip", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-mutants-"));
  try {
    const list = join(dir, "mutants.json");
    writeFileSync(list, JSON.stringify({ mutants: [
      { id: "missing", file: "src/pc/dynamics.ts", find: "text that is nowhere", replace: "x", suites: ["test/pc/il.test.ts"], why: "-" },
      { id: "twice", file: "src/pc/dynamics.ts", find: "state.", replace: "x", suites: ["test/pc/il.test.ts"], why: "-" },
    ] }));
    const { status, output } = check("--mutants", list);
    assert.is.not(status, 0);
    assert.match(output, /ERROR missing: text not found in src\/pc\/dynamics\.ts/);
    assert.match(output, /ERROR twice: text found \d+ times in src\/pc\/dynamics\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

mutants.run();

// Every failure shows as a failure with its name in every runtime's runner: the Node, Deno
// and Bun runners are run on a fixture whose suites fail in each way uvu 0.5 hides (a
// throwing after-each, before or after hook, and a plain failure), and each must name all
// four suites, count 2 passed and 6 failed, and exit non-zero. (The browser runner gets the
// same check in CI: `node scripts/check-runners.mjs browser`.) Also: no suite uses uvu's
// hooks, whose errors uvu drops.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
// @ts-expect-error -- a plain .mjs script without type declarations
import { checkRunner } from "../../scripts/check-runners.mjs";
// @ts-expect-error -- a plain .mjs script without type declarations
import { rel, root } from "../../scripts/test-files.mjs";

const runners = suite("test runners report every failure by name");

for (const runtime of ["node", "deno", "bun"]) {
  runners(`the ${runtime} runner names each hidden failure of the fixture and fails the run`, () => {
    const { problems, output } = checkRunner(runtime) as { problems: string[]; output: string };
    if (problems.length) throw new Error(`${problems.join("\n")}\n--- runner output ---\n${output}`);
  });
}

/** uvu hook registrations: suite.before(...), .before.each(...), .after(...), .after.each(...). */
const HOOK = /\.\s*(before|after)\s*(\.\s*each\s*)?\(/g;

runners("no test file registers a uvu hook (a hook's error is dropped with the test it follows)", () => {
  const files: string[] = [];
  const self = join(root as string, "test", "harness", "runners.test.ts"); // its examples are in strings
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) {
        if (name !== "fixtures" && !name.startsWith(".")) walk(file);
      } else if (/\.(ts|mts|js|mjs)$/.test(name) && file !== self) files.push(file);
    }
  };
  walk(join(root as string, "test"));
  assert.ok(files.length > 20, "the scan sees the test files");
  const offenders = files.flatMap((file) =>
    [...readFileSync(file, "utf8").replace(/\/\/.*$/gm, "").matchAll(HOOK)].map((m) => `${(rel as (f: string) => string)(file)}: ${m[0]}`));
  assert.equal(offenders, [], "use the noLeaks / leakChecked wrappers (test/util/leaks.ts) or plain code inside the test instead");
});

runners("the hook scan recognises every hook form", () => {
  const source = "s.before(() => {});\ns.before.each(f);\ns.after (g);\ns.after.each(() => 1);\nconst x = list.afterwards(1);";
  assert.equal([...source.matchAll(HOOK)].map((m) => m[1] + (m[2] ? ".each" : "")), ["before", "before.each", "after", "after.each"]);
});

runners.run();

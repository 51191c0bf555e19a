// `npm test`: every uvu suite under test/ in Node (through tsx), ending with the one plain
// line CI reads: "N passed, N failed". An optional argument narrows the files to a pattern
// (a regular expression on checkout-relative paths), e.g. `npm test -- test/pc/`.
// The same runner drives Deno and Bun (`npm run test:deno`, `npm run test:bun`).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const script = join(dirname(fileURLToPath(import.meta.url)), "run-runtime-tests.mjs");
const pattern = process.argv.slice(2);
const { status, signal } = spawnSync(process.execPath, [script, "node", ...pattern], { stdio: "inherit" });
process.exit(status ?? (signal ? 1 : 0));

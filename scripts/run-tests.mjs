// Runs the uvu suites under test/ (TypeScript through tsx) and ends with the one plain line
// CI reads: "N passed, N failed". Exits non-zero when anything failed or the run crashed.
// Extra runtimes (e.g. `--runtime deno`) are separate scripts that print the same line.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pattern = process.argv[2] ?? "\\.test\\.ts$";

const child = spawn(
  process.execPath,
  ["--import", "tsx", "--expose-gc", join(root, "node_modules", "uvu", "bin.js"), "test", pattern, "--no-color"],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: (({ FORCE_COLOR, ...rest }) => ({ ...rest, NO_COLOR: "1" }))(process.env) },
);

let output = "";
child.stdout.on("data", (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});

child.on("close", (code) => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (!Number.isFinite(total) || !Number.isFinite(passed)) {
    console.log(`\nthe test run ended (exit ${code}) without a summary`);
    console.log(`0 passed, 1 failed`);
    process.exit(1);
  }
  const failed = total - passed - skipped;
  const ok = failed === 0 && code === 0;
  const counted = ok ? failed : Math.max(failed, 1);
  mkdirSync(join(root, "test-results"), { recursive: true });
  writeFileSync(join(root, "test-results", "node.json"), JSON.stringify({ runtime: "node", passed, failed: counted }) + "\n");
  console.log(`\n${passed} passed, ${counted} failed`);
  process.exit(ok ? 0 : 1);
});

// `npm run test:mutation`: shows that the suites have teeth. Every mutant listed in
// test/mutation/mutants.json (a plausible defect: an exact text in one file and its
// replacement) is applied, one at a time, in a temporary copy of the tree — the working
// tree is never written — and only the suites named for it are run there. A mutant is
// killed when one of them fails (or hangs past its time limit); it survives when all pass.
// A mutant whose text is not found exactly once, or whose change does not compile, is an
// error, not a kill. Prints a killed/survived table (also test-results/mutation.md and
// .json) and exits non-zero unless every mutant is killed.
//
//   npm run test:mutation                     every mutant
//   npm run test:mutation -- --only REGEX     mutants whose id matches
//   npm run test:mutation -- --jobs 2         two copies side by side (default 1)
//   npm run test:mutation -- --list           the list, without running anything
//   npm run test:mutation -- --check          only check that every mutant's text occurs once
//   ... --mutants FILE                        another list (default test/mutation/mutants.json)
//
// Before the mutants, the named suites run once unmutated in the copy: they must pass.
// Mutants of assembly/ and of src/backend/threads/ (built into the embedded worker script)
// rebuild the wasm in the copy; every mutant recompiles dist/ (so the CLI suites see it, and a
// change that does not type-check is reported as such) with a TypeScript compiler kept in
// memory per copy, which re-checks only what the mutant touched.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const GENERATED_WASM = "src/backend/wasm-binaries.generated.ts";
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = option("--only") ? new RegExp(option("--only")) : null;
const LIST = option("--mutants") ?? join(root, "test", "mutation", "mutants.json");
const jobs = Math.max(1, Number(option("--jobs") ?? 1));
const started = performance.now();

// ---- the list -----------------------------------------------------------------------------

function loadMutants() {
  const doc = JSON.parse(readFileSync(LIST, "utf8"));
  const list = Array.isArray(doc) ? doc : doc.mutants;
  const problems = [];
  const ids = new Set();
  for (const [i, m] of list.entries()) {
    for (const field of ["id", "file", "find", "replace", "suites", "why"])
      if (m[field] === undefined) problems.push(`mutant #${i + 1} (${m.id ?? "no id"}) has no "${field}"`);
    if (ids.has(m.id)) problems.push(`mutant id "${m.id}" appears twice`);
    ids.add(m.id);
    if (m.find === m.replace) problems.push(`mutant "${m.id}" replaces its text with itself`);
    if (!Array.isArray(m.suites) || m.suites.length === 0) problems.push(`mutant "${m.id}" names no suite`);
  }
  if (problems.length) {
    console.error(`${LIST}:\n  ${problems.join("\n  ")}`);
    process.exit(2);
  }
  return list.filter((m) => !only || only.test(m.id));
}

const count = (text, part) => text.split(part).length - 1;

/** Sources built into the generated wasm module: the kernels, and the worker script's protocol. */
const rebuildsWasm = (m) => m.file.startsWith("assembly/") || m.file.startsWith("src/backend/threads/");

/** null when the mutant's text occurs exactly once in its file; otherwise why not. */
function targetProblem(m, base) {
  const file = join(base, m.file);
  if (!existsSync(file)) return `file ${m.file} does not exist`;
  const n = count(readFileSync(file, "utf8"), m.find);
  return n === 1 ? null : n === 0 ? `text not found in ${m.file}` : `text found ${n} times in ${m.file} (make it unique)`;
}

// ---- a copy of the tree ---------------------------------------------------------------------

/** Tracked and untracked (not ignored) files, the generated wasm module and dist/; node_modules linked. */
function makeCopy() {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-mutation-"));
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  for (const extra of [GENERATED_WASM, "dist"]) if (existsSync(join(root, extra))) cpSync(join(root, extra), join(dir, extra), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

// ---- running things in a copy ---------------------------------------------------------------

function run(dir, command, argv, timeoutMs, env = {}) {
  return new Promise((resolve) => {
    const { FORCE_COLOR, ...rest } = process.env;
    const child = spawn(command, argv, { cwd: dir, env: { ...rest, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL"); // the runner and the runtime it started
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/**
 * A TypeScript compiler kept in memory for one copy: `tsc -p tsconfig.json` semantics (the
 * same options and diagnostics; nothing is emitted when a file has an error), but each
 * call re-parses only the files whose text changed and re-checks only what they affect,
 * so a one-line mutant recompiles in about a second instead of a full tsc start.
 * Resolves to { code, output } like a `tsc` run.
 */
function typeScriptCompiler(dir) {
  const ts = createRequire(join(root, "package.json"))("typescript");
  const configFile = join(dir, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error(`cannot read ${configFile}`);
  // Errors are checked below before anything is emitted; left on, noEmitOnError would make
  // every emit type-check the whole program again with a fresh checker (seconds per mutant).
  const options = { ...parsed.options, noEmitOnError: false };
  const host = ts.createCompilerHost(options);
  const parsedFiles = new Map(); // file name -> { text, sourceFile }
  let versions = 0;
  host.getSourceFile = (fileName, languageVersion, onError) => {
    let text;
    try {
      text = ts.sys.readFile(fileName);
    } catch (error) {
      onError?.(error.message);
    }
    if (text === undefined) return undefined;
    const known = parsedFiles.get(fileName);
    if (known?.text === text) return known.sourceFile;
    const sourceFile = ts.createSourceFile(fileName, text, languageVersion);
    sourceFile.version = String(++versions); // a builder program tells changed files by their version
    parsedFiles.set(fileName, { text, sourceFile });
    return sourceFile;
  };
  const format = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => "\n" };
  let previous;
  return async () => {
    const program = ts.createEmitAndSemanticDiagnosticsBuilderProgram(parsed.fileNames, options, host, previous, parsed.errors);
    previous = program;
    const diagnostics = [...program.getConfigFileParsingDiagnostics(), ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
    if (!diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) diagnostics.push(...program.emit().diagnostics);
    const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
    return { code: errors.length ? 2 : 0, output: ts.formatDiagnostics(errors, format) };
  };
}
const compilers = new Map();
const compileTs = (dir) => {
  if (!compilers.has(dir)) compilers.set(dir, typeScriptCompiler(dir));
  return compilers.get(dir)();
};
const buildWasm = (dir) => run(dir, process.execPath, [join(dir, "scripts", "build-wasm.mjs")], 5 * 60_000);

/** Runs one suite (a file or pattern) in the copy; returns pass/fail, the failing tests and the time. */
async function runSuite(dir, suite, timeoutMs) {
  const results = mkdtempSync(join(dir, ".mutation-results-"));
  const t0 = performance.now();
  const out = await run(dir, process.execPath, [join(dir, "scripts", "run-runtime-tests.mjs"), "node", suite], timeoutMs,
    { PCGRAPH_TEST_RESULTS: results });
  const seconds = (performance.now() - t0) / 1000;
  let failures = [];
  try {
    failures = JSON.parse(readFileSync(join(results, "node.json"), "utf8")).failures ?? [];
  } catch {
    // no results file: a crash, reported below
  }
  rmSync(results, { recursive: true, force: true });
  return { passed: out.code === 0 && !out.timedOut, timedOut: out.timedOut, failures, seconds, output: out.output };
}

// ---- main ---------------------------------------------------------------------------------

const mutants = loadMutants();
if (args.includes("--list")) {
  for (const m of mutants) console.log(`${m.id.padEnd(36)} ${m.file.padEnd(36)} ${m.suites.join(", ")}\n${"".padEnd(37)}${m.why}`);
  process.exit(0);
}
const results = new Map();
for (const m of mutants) {
  const problem = targetProblem(m, root);
  if (problem) results.set(m.id, { status: "error", detail: problem });
}
const runnable = mutants.filter((m) => !results.has(m.id));
if (args.includes("--check")) {
  for (const m of mutants) console.log(`${results.has(m.id) ? `ERROR ${m.id}: ${results.get(m.id).detail}` : `ok    ${m.id}`}`);
  console.log(`${mutants.length} mutants: ${mutants.length - results.size} found exactly once, ${results.size} errors`);
  process.exit(results.size ? 1 : 0);
}
console.log(`${mutants.length} mutants (${runnable.length} to run${results.size ? `, ${results.size} with errors` : ""}), ${jobs} job(s); ` +
  `host: ${cpus()[0]?.model ?? "?"} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

const copies = [];
try {
  for (let j = 0; j < Math.min(jobs, Math.max(1, runnable.length)); j++) copies.push(makeCopy());

  // The baseline: every named suite passes in the unmutated copy, and how long it takes.
  const compiled = await compileTs(copies[0]);
  if (compiled.code !== 0) throw new Error(`the unmutated copy does not compile:\n${compiled.output}`);
  for (const dir of copies.slice(1)) await compileTs(dir);
  const suites = [...new Set(runnable.flatMap((m) => m.suites))];
  const baseline = new Map();
  for (const suite of suites) {
    const r = await runSuite(copies[0], suite, 10 * 60_000);
    if (!r.passed) throw new Error(`suite ${suite} fails without any mutant:\n${r.output.split("\n").slice(-30).join("\n")}`);
    baseline.set(suite, r.seconds);
    console.log(`baseline ${suite}: passes (${r.seconds.toFixed(1)} s)`);
  }

  const queue = [...runnable];
  const worker = async (dir) => {
    const pristineWasm = existsSync(join(dir, GENERATED_WASM)) ? readFileSync(join(dir, GENERATED_WASM)) : null;
    for (let m = queue.shift(); m; m = queue.shift()) {
      const t0 = performance.now();
      const file = join(dir, m.file);
      const original = readFileSync(file, "utf8");
      const result = { status: "survived", detail: "", suites: m.suites, seconds: 0 };
      try {
        if (count(original, m.find) !== 1) throw Object.assign(new Error(targetProblem(m, dir)), { mutationError: true });
        writeFileSync(file, original.replace(m.find, () => m.replace));
        if (rebuildsWasm(m)) {
          const built = await buildWasm(dir);
          if (built.code !== 0) throw Object.assign(new Error(`does not compile: ${built.output.trim().split("\n").slice(0, 3).join(" | ")}`), { mutationError: true });
        }
        const compiledMutant = await compileTs(dir);
        if (compiledMutant.code !== 0)
          throw Object.assign(new Error(`does not compile: ${compiledMutant.output.trim().split("\n")[0]}`), { mutationError: true });
        for (const suite of m.suites) {
          const limit = Math.max(60_000, 5 * 1000 * (baseline.get(suite) ?? 60));
          const r = await runSuite(dir, suite, limit);
          if (!r.passed) {
            result.status = "killed";
            result.detail = r.timedOut ? `${suite}: timed out after ${(limit / 1000).toFixed(0)} s`
              : r.failures.length ? `${r.failures[0].file} > ${r.failures[0].test}${r.failures.length > 1 ? ` (+${r.failures.length - 1})` : ""}`
              : `${suite}: the run failed (${r.output.trim().split("\n").slice(-1)[0]})`;
            break;
          }
        }
      } catch (error) {
        result.status = "error";
        result.detail = error.mutationError ? error.message : `runner error: ${error.stack ?? error}`;
      } finally {
        writeFileSync(file, original);
        if (rebuildsWasm(m) && pristineWasm) writeFileSync(join(dir, GENERATED_WASM), pristineWasm);
      }
      result.seconds = (performance.now() - t0) / 1000;
      results.set(m.id, result);
      console.log(`${result.status.padEnd(8)} ${m.id} (${result.seconds.toFixed(1)} s)${result.detail ? `: ${result.detail}` : ""}`);
    }
  };
  await Promise.all(copies.map(worker));
} catch (error) {
  console.error(`mutation run stopped: ${error instanceof Error ? error.message : error}`);
  for (const m of runnable) if (!results.has(m.id)) results.set(m.id, { status: "error", detail: "not run (the run stopped)" });
} finally {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
}

// ---- the table ------------------------------------------------------------------------------

const rows = mutants.map((m) => ({ ...m, ...results.get(m.id) }));
const escape = (text) => String(text).replaceAll("|", "\\|").replaceAll("\n", " ");
const table = [
  "| mutant | file | the defect | caught by | result |",
  "| --- | --- | --- | --- | --- |",
  ...rows.map((r) => `| ${r.id} | \`${r.file}\` | ${escape(r.why)} | ${escape(r.status === "killed" ? r.detail : r.suites?.join(", ") ?? "")} | ${r.status === "error" ? `ERROR: ${escape(r.detail)}` : r.status} |`),
].join("\n");
const killed = rows.filter((r) => r.status === "killed").length;
const survived = rows.filter((r) => r.status === "survived").length;
const errors = rows.filter((r) => r.status === "error").length;
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const summary = `${rows.length} mutants: ${killed} killed, ${survived} survived, ${errors} errors, in ${minutes} min ` +
  `(${jobs} job(s); host ${cpus()[0]?.model ?? "?"} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`;
console.log(`\n${table}\n\n${summary}`);
mkdirSync(join(root, "test-results"), { recursive: true });
writeFileSync(join(root, "test-results", "mutation.md"), `${table}\n\n${summary}\n`);
writeFileSync(join(root, "test-results", "mutation.json"), JSON.stringify({ killed, survived, errors, minutes: Number(minutes), rows }, null, 2) + "\n");
process.exit(survived === 0 && errors === 0 ? 0 : 1);

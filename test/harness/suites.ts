// Runs uvu suites in any runtime (Node, Deno, Bun, a browser page) and keeps every failure
// visible with its file, suite and test name. Every runner drives uvu's queue through
// `runSuites` instead of uvu's own `exec`, because uvu 0.5 loses failures in two ways:
//   - a hook that throws (before, before.each, after.each) ends its suite inside a
//     `finally { return ... }`: the hook's error and the failure of the test it followed are
//     dropped, the suite's remaining tests never run, and only the counts differ;
//   - an `after` hook that throws rejects the whole run.
// Here each suite's counts are checked against the failures it named: any test that did not
// pass and was not reported gets a FAIL line of its own naming the suite and the test
// position where it stopped, and a rejected suite is reported as a failure of that suite.
// (The test files themselves use no per-test hooks; test/harness/hygiene.test.ts checks it.)
//
// Suites can also record values that must agree across runtimes (e.g. a fingerprint of
// weights after training): `record(key, value)` from ./records.ts; they come back in the
// summary and scripts/summarize-tests.mjs compares them.
import { takeRecords, setRecordingFile, type RecordedValue } from "./records.js";

// uvu must be told to wait for us before its module is first evaluated (the test files
// import it later, dynamically).
(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;

/** One suite file: its checkout-relative name and how to import it. */
export interface SuiteFile {
  file: string;
  load: () => Promise<unknown>;
}

export interface TestFailure {
  file: string;
  suite: string;
  /** The test's name, or what is known of it when uvu lost it. */
  test: string;
  message: string;
}

export interface RunSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  failures: TestFailure[];
  records: RecordedValue[];
  durationMs: number;
}

type UvuRunner = () => Promise<[string | true, number, number, number]>;
type UvuGroup = [string | null, ...UvuRunner[]];

const ANSI = /\x1b\[[0-9;]*m/g;
const plain = (text: string): string => text.replace(ANSI, "");

/** The line prefix uvu uses for a failed test, and ours for failures uvu did not name. */
const FAIL_MARK = " FAIL ";

function describeError(error: unknown): string {
  return error instanceof Error ? error.stack ?? error.message : String(error);
}

// Where console.log output goes while a suite runs, besides the console. In a browser uvu
// writes through the console.log it found when it loaded, so the wrapper is installed
// here, before any suite imports uvu.
let consoleSink: string[] | null = null;
const originalLog = console.log;
console.log = (...args: unknown[]) => {
  consoleSink?.push(args.map(String).join(" "));
  originalLog(...args);
};

/**
 * Calls `fn` while copying everything written to stdout (Node, Deno, Bun) or console.log (a
 * browser) into a string; `first` is the first piece written (uvu's suite header).
 */
async function captured<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; text: string; first: string }> {
  const pieces: string[] = [];
  const proc = (globalThis as { process?: { stdout?: { write?: (...args: unknown[]) => boolean } } }).process;
  const stdout = proc?.stdout;
  const originalWrite = stdout?.write;
  if (stdout && typeof originalWrite === "function")
    stdout.write = (chunk: unknown, ...rest: unknown[]) => {
      pieces.push(String(chunk));
      return originalWrite.call(stdout, chunk, ...rest);
    };
  else consoleSink = pieces;
  try {
    const value = await fn();
    return { value, text: plain(pieces.join("")), first: plain(pieces[0] ?? "") };
  } catch (error) {
    return { error, text: plain(pieces.join("")), first: plain(pieces[0] ?? "") };
  } finally {
    if (stdout && originalWrite) stdout.write = originalWrite;
    consoleSink = null;
  }
}

/** Loads every file into uvu's queue (one group per file, as uvu's CLI does) and runs them all. */
export async function runSuites(files: SuiteFile[], write: (text: string) => void): Promise<RunSummary> {
  const started = performance.now();
  const g = globalThis as unknown as { UVU_QUEUE?: UvuGroup[]; UVU_INDEX?: number };
  g.UVU_QUEUE ??= [];
  const failures: TestFailure[] = [];
  let total = 0;
  let passed = 0;
  let failed = 0;
  let skipped = 0;

  const loaded: [SuiteFile, UvuGroup][] = [];
  for (const entry of files) {
    g.UVU_INDEX = g.UVU_QUEUE.length;
    const group: UvuGroup = [entry.file];
    g.UVU_QUEUE.push(group);
    try {
      await entry.load();
      loaded.push([entry, group]);
    } catch (error) {
      failed += 1;
      total += 1;
      failures.push({ file: entry.file, suite: "(file)", test: "(load)", message: `could not be loaded: ${describeError(error)}` });
      write(`\n${entry.file}\n  ${FAIL_MARK} ${entry.file} could not be loaded\n    ${describeError(error)}\n`);
    }
  }

  for (const [entry, group] of loaded) {
    group.shift();
    write(`\n${entry.file}\n`);
    setRecordingFile(entry.file);
    for (const runner of group as UvuRunner[]) {
      const run = await captured(runner);
      const suite = run.first.trim() || "(unnamed suite)";
      if (run.error !== undefined) {
        // An `after` hook threw: uvu rejected the suite and its counts are lost.
        failed += 1;
        total += 1;
        const message = `the suite's after hook threw: ${describeError(run.error)}`;
        failures.push({ file: entry.file, suite, test: "(after hook)", message });
        write(`\n  ${FAIL_MARK} ${suite} "(after hook)"\n    ${message}\n`);
        continue;
      }
      const [errors, ran, skip, count] = run.value!;
      total += count;
      passed += ran;
      skipped += skip;
      failed += count - ran;
      const errorText = errors === true ? "" : plain(errors);
      const named = errorText.split(FAIL_MARK).length - 1;
      for (const block of errorText.split(/\n(?=\s*FAIL )/)) {
        const match = /FAIL\s+(.*?)\s+"(.*)"/.exec(block.split("\n").find((line) => line.includes(FAIL_MARK)) ?? "");
        if (match) failures.push({ file: entry.file, suite, test: match[2], message: block.trim() });
      }
      if (errorText) write(`\n${errors}\n`);
      if (count - ran > named) {
        // uvu lost these: a hook threw, dropping its error and the rest of the suite.
        const reported = (run.text.slice(run.first.length).match(/[•✘]/g) ?? []).length;
        const missing = count - ran - named;
        const test = `${missing} of ${count} tests after test #${reported}`;
        const message = `${missing} test(s) of suite "${suite}" did not pass and were not reported: a hook threw ` +
          `(uvu drops a hook's error and the rest of its suite); test #${reported + 1} was running or about to run`;
        failures.push({ file: entry.file, suite, test, message });
        write(`\n  ${FAIL_MARK} ${suite} "${test}"\n    ${message}\n`);
      }
    }
  }
  setRecordingFile(undefined);
  g.UVU_QUEUE.length = 0;

  const durationMs = Math.round(performance.now() - started);
  write(`\n  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${durationMs}ms\n\n`);
  return { total, passed, failed, skipped, failures, records: takeRecords(), durationMs };
}

/** The marker line a runner prints so its parent process can read the summary. */
export const RESULTS_MARKER = "@pcgraph-test-results ";

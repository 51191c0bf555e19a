// Values a suite records so that runs in different runtimes can be compared afterwards
// (scripts/summarize-tests.mjs): e.g. a fingerprint of the weights after k training steps,
// which must be the same bit for bit in Node, Deno, Bun and Chromium. Platform-neutral.

export interface RecordedValue {
  /** What was measured, including everything it depends on (model, steps, backend). */
  key: string;
  value: string;
  /** The test file that recorded it (set by the harness). */
  file: string;
}

interface RecordStore {
  values: RecordedValue[];
  file: string | undefined;
}

// On the global object, so the harness and the suites share it even when bundled apart.
const store = ((globalThis as { __pcgraphTestRecords?: RecordStore }).__pcgraphTestRecords ??= { values: [], file: undefined });

/** Records `value` under `key`; recording the same key twice in one run with different values throws. */
export function record(key: string, value: string): void {
  const earlier = store.values.find((r) => r.key === key);
  if (earlier && earlier.value !== value)
    throw new Error(`record "${key}": ${value} differs from ${earlier.value} recorded earlier in this run`);
  if (!earlier) store.values.push({ key, value, file: store.file ?? "(unknown)" });
}

/** Which file's suites are running (called by the harness). */
export function setRecordingFile(file: string | undefined): void {
  store.file = file;
}

/** Every value recorded so far; clears the store. */
export function takeRecords(): RecordedValue[] {
  return store.values.splice(0);
}

// Evaluated before anything else in the page (first import of entry.ts): tells uvu not to
// start on its own (the entry drives its queue, as uvu's CLI does), and captures what uvu
// prints, which in a browser goes through console.log.
const ANSI = /\x1b\[[0-9;]*m/g;

export const log: string[] = [];

const original = console.log.bind(console);
console.log = (...args: unknown[]) => {
  log.push(args.map((a) => (typeof a === "string" ? a : String(a))).join(" ").replace(ANSI, ""));
  original(...args);
};

/** The captured output as a terminal would show it: uvu writes fragments (ending in a space or
 * newline) that console.log puts on lines of their own; other messages are whole lines. */
export function logText(): string {
  return log.map((piece) => (/\s$/.test(piece) ? piece : piece + "\n")).join("");
}

export const stripAnsi = (text: string): string => text.replace(ANSI, "");

(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;

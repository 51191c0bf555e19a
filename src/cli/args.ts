// A small flag parser for the pcgraph commands: `--name value`, `--name=value`, `--no-name`
// (a boolean off), `--help`, positionals; unknown flags and bad values are usage errors (exit code 2).

export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type FlagType = "string" | "integer" | "number" | "boolean";

export interface FlagSpec {
  name: string;
  type: FlagType;
  /** Allowed values (strings only). A value may also be a path when `orPath` is set. */
  values?: readonly string[];
  orPath?: boolean;
  /** The value placeholder in help, e.g. "N". */
  meta?: string;
  help: string;
  /** Shown in help; the command applies its own defaults. */
  defaultText?: string;
  min?: number;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  /** Names of positional arguments (required ones first). */
  positionals?: { name: string; required: boolean; help: string }[];
  flags: FlagSpec[];
  details?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean>;
  positionals: string[];
  help: boolean;
}

function convert(command: string, spec: FlagSpec, raw: string): string | number | boolean {
  const fail = (what: string): never => {
    throw new UsageError(`--${spec.name}: ${what}, got ${JSON.stringify(raw)}`, command);
  };
  switch (spec.type) {
    case "integer": {
      if (!/^[+-]?\d+$/.test(raw)) fail("expected an integer");
      const value = Number(raw);
      if (spec.min !== undefined && value < spec.min) fail(`expected an integer >= ${spec.min}`);
      return value;
    }
    case "number": {
      const value = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(value)) fail("expected a number");
      if (spec.min !== undefined && value < spec.min) fail(`expected a number >= ${spec.min}`);
      return value;
    }
    case "boolean":
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      return fail("expected true or false");
    case "string":
      if (spec.values && !spec.values.includes(raw) && !spec.orPath)
        fail(`expected one of ${spec.values.join(", ")}`);
      return raw;
  }
}

/** Parses argv (without the command name) against a command's flags. */
export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const flags: Record<string, string | number | boolean> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const [written, inline] = arg.startsWith("--") ? splitOnce(arg.slice(2)) : [arg.slice(1), undefined];
      // --no-NAME turns a boolean flag off.
      const negated = arg.startsWith("--") && written.startsWith("no-") && !spec.flags.some((f) => f.name === written) &&
        spec.flags.some((f) => f.name === written.slice(3));
      const name = negated ? written.slice(3) : written;
      const flag = spec.flags.find((f) => f.name === name);
      if (negated) {
        if (flag!.type !== "boolean") throw new UsageError(`--no-${name}: --${name} is not an on/off flag`, spec.name);
        if (inline !== undefined) throw new UsageError(`--no-${name} takes no value`, spec.name);
        if (name in flags) throw new UsageError(`--${name} given twice`, spec.name);
        flags[name] = false;
        continue;
      }
      if (!flag || !arg.startsWith("--")) {
        const close = spec.flags.find((f) => f.name.startsWith(name.slice(0, 3)) && name.length > 2);
        throw new UsageError(`unknown flag ${arg.split("=")[0]} for "pcgraph ${spec.name}"${close ? ` (did you mean --${close.name}?)` : ""}`, spec.name);
      }
      let raw = inline;
      if (raw === undefined) {
        if (flag.type === "boolean" && (i + 1 >= argv.length || argv[i + 1].startsWith("--"))) raw = "true";
        else {
          if (i + 1 >= argv.length) throw new UsageError(`--${flag.name} needs a value (${flag.meta ?? flag.type})`, spec.name);
          raw = argv[++i];
        }
      }
      if (name in flags) throw new UsageError(`--${flag.name} given twice`, spec.name);
      flags[name] = convert(spec.name, flag, raw);
      continue;
    }
    positionals.push(arg);
  }
  if (!help) {
    const allowed = spec.positionals ?? [];
    if (positionals.length > allowed.length)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[allowed.length])} for "pcgraph ${spec.name}"`, spec.name);
    const missing = allowed.find((p, i) => p.required && positionals[i] === undefined);
    if (missing) throw new UsageError(`missing ${missing.name} for "pcgraph ${spec.name}"`, spec.name);
  }
  return { flags, positionals, help };
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf("=");
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** The --help text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`pcgraph ${spec.name}: ${spec.summary}`, "", `Usage: ${spec.usage}`];
  if (spec.positionals?.length) {
    lines.push("", "Arguments:");
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(24)}${p.help}`);
  }
  lines.push("", "Options:");
  const rows = spec.flags.map((f) => {
    const left = f.type === "boolean" ? `--[no-]${f.name}` : `--${f.name} ${f.meta ?? (f.values ? f.values.join("|") : f.type === "string" ? "VALUE" : "N")}`;
    return [left, f.help + (f.defaultText ? ` (default: ${f.defaultText})` : "")];
  });
  rows.push(["--help", "Show this help"]);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}${right}`);
  if (spec.details) lines.push("", spec.details);
  return lines.join("\n");
}

// The pcgraph command: train, eval, info, verify, start (npm start), predify and memory. Results go to
// stdout, progress to stderr. Exit codes: 0 success, 1 failure, 2 usage error.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { OutOfMemoryError } from "../backend/errors.js";
import { disposeBackends } from "../backend/load.js";
import { helpText, parseArgs, UsageError, type CommandSpec } from "./args.js";
import { predifyCommand, predifySpec } from "./predify.js";
import { memoryCommand, memorySpec } from "./memory.js";
import { startCommand, startSpec } from "./start.js";
import { graphCommand, graphSpec } from "./graph.js";
import { evalCommand, evalSpec, infoCommand, infoSpec, verifyCommand, verifySpec } from "./tools.js";
import { trainCommand, trainSpec } from "./train.js";

type Flags = Record<string, string | number | boolean>;
type Out = (line: string) => void;

const commands: { spec: CommandSpec; run(flags: Flags, positionals: string[], out: Out): number | Promise<number> }[] = [
  { spec: trainSpec, run: (flags, _p, out) => trainCommand(flags, out) },
  { spec: evalSpec, run: (flags, p, out) => evalCommand(p[0], flags, out) },
  { spec: infoSpec, run: (flags, _p, out) => infoCommand(flags, out) },
  { spec: verifySpec, run: (flags, _p, out) => verifyCommand(flags, out) },
  { spec: startSpec, run: (flags, _p, out) => startCommand(flags, out) },
  { spec: predifySpec, run: (flags, p, out) => predifyCommand(p, flags, out) },
  { spec: memorySpec, run: (flags, p, out) => memoryCommand(p[0], p[1], flags, out) },
  { spec: graphSpec, run: (flags, p, out) => graphCommand(p, flags, out) },
];

export function generalHelp(): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 2;
  return [
    "pcgraph: predictive-coding networks on a WebAssembly SIMD core, with Z-IL (updates equal to backprop's)",
    "",
    "Usage: pcgraph <command> [options]",
    "       pcgraph --version",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    "",
    'Run "pcgraph <command> --help" for a command\'s options.',
  ].join("\n");
}

/** The package's version, from its package.json (two levels up from src/cli and dist/cli). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

let pipesGuarded = false;
let stdoutClosed = false;

/**
 * A reader that goes away (`pcgraph ... | head`) closes the pipe: writes then fail with
 * EPIPE. The command carries on (a training run still saves its checkpoint) and stops
 * writing to that stream instead of crashing with a stack trace.
 */
function guardPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  const quiet = (stream: NodeJS.WriteStream, onClosed: () => void) =>
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") onClosed();
      else throw error;
    });
  quiet(process.stdout, () => (stdoutClosed = true));
  quiet(process.stderr, () => undefined);
}

/** Runs the CLI on argv (without node and the script); resolves to the exit code. */
export async function runCli(argv: string[], out: Out = (line) => void (stdoutClosed || process.stdout.write(`${line}\n`)),
  err: Out = (line) => process.stderr.write(`${line}\n`)): Promise<number> {
  guardPipes();
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    out(`pcgraph ${version()}`);
    return 0;
  }
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? commands.find((c) => c.spec.name === rest[0]) : undefined;
    out(topic ? helpText(topic.spec) : generalHelp());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.spec.name === name);
  try {
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)} (expected ${commands.map((c) => c.spec.name).join(", ")})`);
    const args = parseArgs(command.spec, rest);
    if (args.help) {
      out(helpText(command.spec));
      return 0;
    }
    return await command.run(args.flags, args.positionals, out);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`pcgraph${command ? ` ${command.spec.name}` : ""}: ${error.message}`);
      err(command ? `Run "pcgraph ${command.spec.name} --help" for usage.` : 'Run "pcgraph --help" for the commands.');
      return 2;
    }
    err(`pcgraph${command ? ` ${command.spec.name}` : ""}: error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof OutOfMemoryError && command && command.spec.flags.some((f) => f.name === "batch-size"))
      err("The model's tensors at this batch size do not fit: try a smaller --batch-size.");
    if (process.env.PCGRAPH_DEBUG && error instanceof Error) err(error.stack ?? "");
    return 1;
  } finally {
    disposeBackends();
  }
}

// Run when executed directly (`tsx src/cli/main.ts ...`); bin/pcgraph.js imports runCli instead.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2));
}

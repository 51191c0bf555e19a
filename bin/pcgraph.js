#!/usr/bin/env node
// The pcgraph command. The CLI is TypeScript; tsx compiles it on the fly.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));

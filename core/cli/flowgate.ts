#!/usr/bin/env node
/**
 * The `flowgate` executable: runs one command line through `Cli` (core/cli/cli.ts) with the
 * process's streams and exits with its code (0 success, 1 failure, 2 bad usage or config).
 */
import { Cli } from './cli.js';

const args = process.argv.slice(2);
const code = await new Cli({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).run(args);
process.exitCode = code;
// A server that has stopped (or given up stopping) must not be kept alive by what is still pending:
// a reconnect timer of a client whose database is gone, a stop cut short. Unref'd, so a clean end
// is not delayed; other commands may still be writing their output and end on their own.
if (args[0] === 'start') setTimeout(() => process.exit(code), 2_000).unref();

#!/usr/bin/env node
/**
 * The `flowgate` executable: runs one command line through `Cli` (core/cli/cli.ts) with the
 * process's streams and exits with its code (0 success, 1 failure, 2 bad usage or config).
 */
import { Cli } from './cli.js';

process.exitCode = await new Cli({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).run(process.argv.slice(2));

#!/usr/bin/env node
/**
 * The `flowgate` command. Exit codes: 0 success, 1 failure at run time, 2 bad usage or config.
 */
import { join } from 'node:path';
import { CoreError } from '../errors.js';
import { loadConfig } from '../config/load-config.js';
import { projectRoot } from '../paths.js';
import { FlowgateServer } from '../server.js';
import { testWorkflows, validateWorkflows } from './workflow-commands.js';

const HELP = `Usage: flowgate <command> [options]

Commands:
  start            Run the server with the configured plugins and workflows
  validate [paths] Check workflow files (default: the workflows folder); exit 1 if any is invalid
  test [paths]     Run the <workflow>.test.json fixtures as dry runs; exit 1 if any case fails
  help             Show this help

Configuration: config/default.json, config/<NODE_ENV>.json and the environment (see README).
Exit codes: 0 success, 1 failure while running, 2 bad usage or invalid configuration.`;

async function start(): Promise<number> {
  const config = loadConfig({ configDir: join(projectRoot, 'config') });
  const server = new FlowgateServer(config);
  await server.start();
  console.error(`Flowgate listening on ${server.url}`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      server.logger.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  await server.stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const out = { log: (line: string) => console.log(line) };
  switch (command) {
    case 'start':
      return start();
    case 'validate':
      return validateWorkflows(loadConfig({ configDir: join(projectRoot, 'config') }), args, out);
    case 'test':
      return testWorkflows(loadConfig({ configDir: join(projectRoot, 'config') }), args, out);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      console.error(`Unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof CoreError) {
    console.error(`flowgate: ${error.code}: ${error.message}`);
    process.exitCode = error.code === 'CONFIG_INVALID' ? 2 : 1;
  } else {
    console.error('flowgate: unexpected failure', error);
    process.exitCode = 1;
  }
}

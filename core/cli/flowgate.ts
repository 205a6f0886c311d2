#!/usr/bin/env node
/**
 * The `flowgate` command. Besides `start` and `help`, plugins contribute commands through
 * `r.command(...)` (named `topic:verb`, e.g. `user:create`); those run with the configured
 * plugins started but without the HTTP listener and without processing scheduled jobs.
 * Exit codes: 0 success, 1 failure at run time, 2 bad usage or config.
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
  help             Show this help, with the commands of the configured plugins`;

const FOOTER = `Configuration: config/default.json, config/<NODE_ENV>.json and the environment (see README).
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

/** A server for one command: it must not take jobs other processes should run. */
function commandServer(): FlowgateServer {
  return new FlowgateServer(loadConfig({ configDir: join(projectRoot, 'config'), overrides: { scheduler: { enabled: false } } }));
}

/** Help lists plugin commands, which needs the plugins registered (nothing is connected). */
async function help(): Promise<string> {
  const server = commandServer();
  let lines: string[];
  try {
    await server.registerPlugins();
    lines = [...server.contributions.commands.values()]
      .sort((a, b) => a.definition.name.localeCompare(b.definition.name))
      .flatMap(({ definition }) => [`  ${definition.name.padEnd(16)} ${definition.summary}`, ...(definition.usage ? [`${' '.repeat(19)}${definition.usage}`] : [])]);
  } catch (error) {
    lines = [`  (plugin commands unavailable: ${(error as Error).message})`];
  }
  return `${HELP}\n${lines.join('\n')}\n\n${FOOTER}`;
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
      console.log(await help());
      return 0;
    default:
      if (!command.includes(':')) {
        console.error(`Unknown command ${JSON.stringify(command)}\n\n${await help()}`);
        return 2;
      }
      try {
        return await commandServer().runCommand(command, args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
      } catch (error) {
        if (error instanceof CoreError && error.code === 'COMMAND_UNKNOWN') {
          console.error(`${error.message}\n\n${await help()}`);
          return 2;
        }
        throw error;
      }
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof CoreError) {
    console.error(`flowgate: ${error.code}: ${error.message}`);
    process.exitCode = error.code === 'CONFIG_INVALID' ? 2 : 1;
  } else {
    console.error(`flowgate: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  }
}

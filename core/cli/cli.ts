/**
 * The `flowgate` command line. The core runs `start`, `validate`, `test` and `help`; plugins
 * contribute the rest through `r.command(...)` (named `topic:verb`, with optional aliases such as
 * `backup`), which run with the configured plugins started but without the HTTP listener and
 * without processing scheduled jobs. Every command answers `--help` without connecting to anything.
 */
import { join } from 'node:path';
import type { FlowgateConfig } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { CoreError } from '../errors.js';
import { projectRoot } from '../paths.js';
import type { CommandDefinition, CommandIO } from '../plugin-api.js';
import { CORE_COMMANDS } from '../plugins/contributions.js';
import { FlowgateServer } from '../server.js';
import { testWorkflows, UsageError, validateWorkflows } from './workflow-commands.js';

/** The exit codes every command keeps to (docs/cli.md). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

type CoreCommand = (typeof CORE_COMMANDS)[number];

const EXIT_CODES = 'Exit codes: 0 success, 1 failure while running (or findings), 2 bad usage or invalid configuration.';

const CORE_HELP: Record<CoreCommand, { summary: string; usage: string; help: string }> = {
  start: {
    summary: 'Run the server with the configured plugins and workflows',
    usage: '',
    help: 'Listens on http.host:http.port until SIGINT or SIGTERM, then stops the plugins in reverse order.\nA stop that outlasts lifecycle.shutdownTimeoutMs, or a second signal, ends it anyway with exit 1.\nExit 2 when the configuration is invalid, 1 when a plugin fails to load or start.',
  },
  validate: {
    summary: 'Check workflow files (default: the workflows folder)',
    usage: '[paths…]',
    help: 'Compiles each workflow JSON file against the types the configured plugins register and prints every issue\nwith its path and code. Exit 1 when any file is invalid, 2 when a path does not exist.',
  },
  test: {
    summary: 'Run the <workflow>.test.json fixtures as dry runs',
    usage: '[paths…]',
    help: 'Runs each fixture case as a dry run (effects simulated) and compares steps, statuses and inputs with its\nexpectations. Needs MongoDB and Redis. Exit 1 when a case fails or no case was found, 2 when a path does not exist.',
  },
  help: {
    summary: 'Show this help, or one command\'s (also: flowgate <command> --help)',
    usage: '[command]',
    help: '',
  },
};

const isCoreCommand = (name: string): name is CoreCommand => (CORE_COMMANDS as readonly string[]).includes(name);
const wantsHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');
const line = (name: string, summary: string) => `  ${name.padEnd(16)} ${summary}`;
const usageLine = (usage: string | undefined) => (usage ? [`${' '.repeat(19)}${usage}`] : []);

export interface CliOptions {
  /** Environment the configuration is read from; `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Dispatches one `flowgate` command line. `run` does not throw: every failure is written to
 * stderr and becomes its exit code, so the binary and the tests see the same outcome.
 */
export class Cli {
  private commands: Promise<Array<{ plugin: string; definition: CommandDefinition }>> | undefined;

  constructor(private readonly io: CommandIO, private readonly options: CliOptions = {}) {}

  /** Runs one command line (without `node flowgate`) and resolves to its exit code. */
  async run(argv: readonly string[]): Promise<number> {
    const [command, ...args] = argv;
    try {
      if (command === undefined || command === '--help' || command === '-h') return this.print(await this.overview());
      if (command === 'help') {
        const topic = wantsHelp(args) ? 'help' : args[0];
        return topic ? await this.commandHelp(topic) : this.print(await this.overview());
      }
      if (wantsHelp(args)) return await this.commandHelp(command);
      switch (command) {
        case 'start':
          if (args.length) throw new UsageError('start takes no arguments');
          return await this.start();
        case 'validate':
          return await validateWorkflows(this.config(), args, this.out());
        case 'test':
          return await testWorkflows(this.config(), args, this.out());
        default:
          return await this.pluginCommand(command, args);
      }
    } catch (error) {
      return this.fail(error, command);
    }
  }

  private async start(): Promise<number> {
    const config = this.config();
    const server = new FlowgateServer(config);
    await server.start();
    // Listening for signals before saying so: a supervisor that signals as soon as it reads the
    // line must reach this handler, not the default action that ends the process uncleanly.
    const signalled = new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    this.io.stderr.write(`Flowgate listening on ${server.url}\n`);
    const signal = await signalled;
    server.logger.info('shutting down', { signal });
    // A stop that waits on something that never answers must not keep the process alive: past
    // the deadline, or at a second signal, it ends anyway (and says so).
    const cutShort = new Promise<string>((resolve) => {
      const deadlineMs = config.lifecycle.shutdownTimeoutMs;
      setTimeout(() => resolve(`it did not stop within lifecycle.shutdownTimeoutMs (${deadlineMs} ms)`), deadlineMs).unref();
      const again = (name: string) => () => resolve(`${name} arrived while it was stopping`);
      process.once('SIGINT', again('SIGINT'));
      process.once('SIGTERM', again('SIGTERM'));
    });
    const reason = await Promise.race([server.stop().then(() => null), cutShort]);
    if (reason === null) return EXIT.ok;
    server.logger.error('shutdown cut short', { reason });
    this.io.stderr.write(`flowgate: shutdown cut short: ${reason}\n`);
    return EXIT.failure;
  }

  private async pluginCommand(name: string, args: readonly string[]): Promise<number> {
    try {
      return await this.commandServer().runCommand(name, args, this.io);
    } catch (error) {
      if (error instanceof CoreError && error.code === 'COMMAND_UNKNOWN') return this.unknown(name);
      throw error;
    }
  }

  /** `flowgate <name> --help`: core commands from the table above, plugin ones from their definition. */
  private async commandHelp(name: string): Promise<number> {
    if (isCoreCommand(name)) {
      const { summary, usage, help } = CORE_HELP[name];
      return this.print([`Usage: flowgate ${name}${usage ? ` ${usage}` : ''}`, '', summary, ...(help ? ['', help] : []), '', EXIT_CODES].join('\n'));
    }
    const found = (await this.registeredCommands()).find((c) => c.definition.name === name || c.definition.aliases?.includes(name));
    if (!found) return this.unknown(name);
    const { definition, plugin } = found;
    return this.print([
      `Usage: flowgate ${definition.name}${definition.usage ? ` ${definition.usage}` : ''}`,
      ...(definition.aliases?.length ? [`Also:  ${definition.aliases.map((a) => `flowgate ${a}`).join(', ')}`] : []),
      '',
      definition.summary,
      ...(definition.help ? ['', definition.help] : []),
      '',
      `From plugin ${plugin}. It runs with the configured plugins started (MongoDB and Redis connected), without the HTTP listener.`,
      EXIT_CODES,
    ].join('\n'));
  }

  /** The overview: the core's commands, then every plugin command and alias of the configured plugins. */
  private async overview(): Promise<string> {
    const core = CORE_COMMANDS.flatMap((name) => [line(name, CORE_HELP[name].summary), ...usageLine(CORE_HELP[name].usage)]);
    let plugins: string[];
    try {
      plugins = (await this.registeredCommands()).flatMap(({ definition }) => [
        line(definition.name, definition.summary),
        ...usageLine(definition.usage),
        ...(definition.aliases ?? []).map((alias) => line(alias, `Same as ${definition.name}`)),
      ]);
    } catch (error) {
      plugins = [`  (plugin commands unavailable: ${(error as Error).message})`];
    }
    return [
      'Usage: flowgate <command> [options]', '',
      'Commands:', ...core, '',
      'Commands of the configured plugins:', ...plugins, '',
      '`flowgate <command> --help` describes one command.',
      'Configuration: config/default.json, config/<NODE_ENV>.json and the environment (see README).',
      EXIT_CODES,
    ].join('\n');
  }

  /** Plugin commands sorted by name; registering the plugins connects nothing, and happens once per Cli. */
  private registeredCommands(): Promise<Array<{ plugin: string; definition: CommandDefinition }>> {
    this.commands ??= (async () => {
      const server = this.commandServer();
      await server.registerPlugins();
      return [...server.contributions.commands.values()].sort((a, b) => a.definition.name.localeCompare(b.definition.name));
    })();
    return this.commands;
  }

  private async unknown(name: string): Promise<number> {
    this.io.stderr.write(`Unknown command ${JSON.stringify(name)}\n\n${await this.overview()}\n`);
    return EXIT.usage;
  }

  private fail(error: unknown, command: string | undefined): number {
    if (error instanceof UsageError) {
      this.io.stderr.write(`flowgate ${command}: ${error.message}\nRun \`flowgate ${command} --help\` for its usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof CoreError) {
      this.io.stderr.write(`flowgate: ${error.code}: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failure;
    }
    this.io.stderr.write(`flowgate: ${(error as Error).message ?? String(error)}\n`);
    return EXIT.failure;
  }

  private config(overrides?: Record<string, unknown>): FlowgateConfig {
    return loadConfig({ configDir: join(projectRoot, 'config'), env: this.options.env ?? process.env, overrides });
  }

  /** A server for one command: it must not take jobs other processes should run. */
  private commandServer(): FlowgateServer {
    return new FlowgateServer(this.config({ scheduler: { enabled: false } }));
  }

  private out(): { log(text: string): void } {
    return { log: (text: string) => this.io.stdout.write(`${text}\n`) };
  }

  private print(text: string): number {
    this.io.stdout.write(`${text}\n`);
    return EXIT.ok;
  }
}

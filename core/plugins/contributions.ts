/**
 * Explicit registries of what plugins contribute, keyed by full type id. The engine, the HTTP
 * layer, the docs and `GET /api/plugins` read these, never the container.
 */
import type {
  ActionContribution, CommandDefinition, JobDefinition, JsonSchema, PolicyContribution, RouteDefinition, TopicDefinition, TriggerContribution,
} from '../plugin-api.js';
import { CoreError } from '../errors.js';

export type ContributionKind = 'trigger' | 'action' | 'policy';

export interface Registered<T> {
  /** `${plugin}.${type}@${version}` */
  readonly id: string;
  readonly plugin: string;
  readonly contribution: T;
}

const TYPE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*$/;

export class TypeRegistry<T extends { type: string; version: number }> {
  private readonly entries = new Map<string, Registered<T>>();
  constructor(private readonly kind: ContributionKind) {}

  add(plugin: string, contribution: T): string {
    if (!TYPE_NAME.test(contribution.type) || !Number.isInteger(contribution.version) || contribution.version < 1) {
      throw new CoreError('PLUGIN_TYPE_INVALID', `Plugin ${plugin} contributes ${this.kind} ${JSON.stringify(contribution.type)}@${contribution.version}: types are lower-case words joined by - or ., versions whole numbers from 1`);
    }
    const id = `${plugin}.${contribution.type}@${contribution.version}`;
    const existing = this.entries.get(id);
    if (existing) {
      throw new CoreError('PLUGIN_DUPLICATE_TYPE', `${this.kind} ${id} is contributed twice (by ${existing.plugin} and ${plugin})`);
    }
    this.entries.set(id, { id, plugin, contribution });
    return id;
  }

  get(id: string): Registered<T> | undefined {
    return this.entries.get(id);
  }

  list(): Registered<T>[] {
    return [...this.entries.values()];
  }
}

/** `user:create`, `audit:verify`: a colon keeps plugin commands apart from the core's own. */
const COMMAND_NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;
/** An alias may also be one word (`backup`), as long as the core does not use it. */
const ALIAS_NAME = /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/;
/** The commands `core/cli` runs itself; plugins cannot take these names. */
export const CORE_COMMANDS = ['start', 'validate', 'test', 'help'] as const;

export class Contributions {
  readonly triggers = new TypeRegistry<TriggerContribution>('trigger');
  readonly actions = new TypeRegistry<ActionContribution>('action');
  readonly policies = new TypeRegistry<PolicyContribution>('policy');
  readonly topics = new Map<string, { plugin: string; definition: TopicDefinition }>();
  readonly jobs = new Map<string, { plugin: string; definition: JobDefinition }>();
  readonly routes: Array<{ plugin: string; route: RouteDefinition }> = [];
  readonly commands = new Map<string, { plugin: string; definition: CommandDefinition }>();
  /** Alias → the command name it stands for. */
  readonly commandAliases = new Map<string, string>();

  /** The payload schema of a trigger's events: its own, or that of the trigger it listens to. */
  triggerEventSchema(trigger: Registered<TriggerContribution>): JsonSchema | undefined {
    return trigger.contribution.listensTo === undefined ? trigger.contribution.event : this.triggers.get(trigger.contribution.listensTo)?.contribution.event;
  }

  addTopic(plugin: string, definition: TopicDefinition): void {
    const existing = this.topics.get(definition.name);
    if (existing) throw new CoreError('PLUGIN_DUPLICATE_TOPIC', `Topic ${definition.name} is contributed twice (by ${existing.plugin} and ${plugin})`);
    this.topics.set(definition.name, { plugin, definition });
  }

  addCommand(plugin: string, definition: CommandDefinition): void {
    if (!COMMAND_NAME.test(definition.name)) {
      throw new CoreError('PLUGIN_TYPE_INVALID', `Plugin ${plugin} defines command ${JSON.stringify(definition.name)}: command names are topic:verb in lower case`);
    }
    for (const name of [definition.name, ...(definition.aliases ?? [])]) {
      const taken = this.findCommand(name);
      if (taken) throw new CoreError('PLUGIN_DUPLICATE_TYPE', `Command ${name} is defined twice (by ${taken.plugin} and ${plugin})`);
    }
    for (const alias of definition.aliases ?? []) {
      if (!ALIAS_NAME.test(alias) || (CORE_COMMANDS as readonly string[]).includes(alias)) {
        throw new CoreError('PLUGIN_TYPE_INVALID', `Plugin ${plugin} gives command ${definition.name} the alias ${JSON.stringify(alias)}: aliases are a lower-case word or topic:verb, and not ${CORE_COMMANDS.join(', ')}`);
      }
    }
    this.commands.set(definition.name, { plugin, definition });
    for (const alias of definition.aliases ?? []) this.commandAliases.set(alias, definition.name);
  }

  /** A command by its name or one of its aliases. */
  findCommand(name: string): { plugin: string; definition: CommandDefinition } | undefined {
    return this.commands.get(this.commandAliases.get(name) ?? name);
  }

  addJob(plugin: string, definition: JobDefinition): void {
    if (!definition.name.startsWith(`${plugin}.`)) {
      throw new CoreError('PLUGIN_TYPE_INVALID', `Plugin ${plugin} defines job ${definition.name}: job names start with the plugin id and a dot`);
    }
    const existing = this.jobs.get(definition.name);
    if (existing) throw new CoreError('PLUGIN_DUPLICATE_TYPE', `Job ${definition.name} is defined twice`);
    this.jobs.set(definition.name, { plugin, definition });
  }
}

/**
 * Turns the configured plugin list into running plugins: import, check manifests before any
 * plugin code runs, order by `dependsOn`, validate each plugin's config, register synchronously,
 * then start one at a time with a timeout and stop in reverse. Every failure names the plugin.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ContainerModule, type Container, type Newable } from 'inversify';
import semver from 'semver';
import type { Logger } from 'winston';
import { CoreError } from '../errors.js';
import type { Authenticator, ModelDefinition, Plugin, PluginLifecycle, PluginManifest, RouteController } from '../plugin-api.js';
import { createAjv, describeErrors } from '../schema/ajv.js';
import type { PermissionCatalog } from '../security/roles.js';
import type { MongoConnection } from '../storage/mongo.js';
import type { Scheduler } from '../scheduling/scheduler.js';
import type { Contributions } from './contributions.js';

export type PluginEntry = string | { from: string; optional?: boolean };

export interface LoadedPlugin {
  readonly plugin: Plugin;
  readonly source: string;
  readonly optional: boolean;
  state: 'registered' | 'started' | 'failed' | 'stopped';
  error?: string;
}

export interface PluginHostOptions {
  coreVersion: string;
  projectRoot: string;
  /** Where built-in plugins live (`<root>/dist/plugins`). */
  builtinDir: string;
  settings: Record<string, unknown>;
  /** Read for the variables plugins declare in `manifest.environment`. */
  env: NodeJS.ProcessEnv;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

const PLUGIN_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class PluginHost {
  readonly loaded: LoadedPlugin[] = [];
  private readonly lifecycles = new Map<string, Newable<PluginLifecycle>>();
  private readonly controllers: Array<{ plugin: string; impl: Newable<RouteController> }> = [];
  private authenticatorImpl: { plugin: string; impl: Newable<Authenticator> } | null = null;

  constructor(
    private readonly options: PluginHostOptions,
    private readonly container: Container,
    private readonly contributions: Contributions,
    private readonly permissions: PermissionCatalog,
    private readonly mongo: MongoConnection,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {}

  /** Imports every listed plugin. Unknown or malformed ones stop boot unless marked optional. */
  async importAll(entries: readonly PluginEntry[]): Promise<Array<{ plugin: Plugin; source: string; optional: boolean }>> {
    const out: Array<{ plugin: Plugin; source: string; optional: boolean }> = [];
    for (const entry of entries) {
      const source = typeof entry === 'string' ? entry : entry.from;
      const optional = typeof entry === 'string' ? false : entry.optional ?? false;
      try {
        out.push({ plugin: await this.importOne(source), source, optional });
      } catch (error) {
        if (!optional) throw error;
        this.logger.warn('optional plugin skipped', { plugin: source, error: (error as Error).message });
      }
    }
    return out;
  }

  private async importOne(source: string): Promise<Plugin> {
    let specifier: string;
    if (source.startsWith('.') || isAbsolute(source)) {
      const path = resolve(this.options.projectRoot, source);
      const file = [path, `${path}.js`, join(path, 'index.js')].find((p) => existsSync(p) && !p.endsWith('/'));
      if (!file || !/\.(c|m)?js$/.test(file)) throw new CoreError('PLUGIN_NOT_FOUND', `Plugin ${source}: no JavaScript module at ${path}`);
      specifier = pathToFileURL(file).href;
    } else if (PLUGIN_ID.test(source) && existsSync(join(this.options.builtinDir, source, 'index.js'))) {
      specifier = pathToFileURL(join(this.options.builtinDir, source, 'index.js')).href;
    } else {
      specifier = source;
    }
    let module: { default?: unknown };
    try {
      module = await import(specifier) as { default?: unknown };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A file found above (a path or a built-in) exists, so a missing module is one it imports.
      const foundFile = specifier.startsWith('file:');
      if (code === 'ERR_MODULE_NOT_FOUND' && !foundFile && !String((error as Error).message).includes(specifier.replace('file://', '') + '/')) {
        throw new CoreError('PLUGIN_NOT_FOUND', `Plugin ${source} was not found: it is neither a built-in plugin nor an installed package or path`, undefined, { cause: error });
      }
      throw new CoreError('PLUGIN_LOAD_FAILED', `Plugin ${source} failed to load: ${(error as Error).message}`, undefined, { cause: error });
    }
    const plugin = module.default as Plugin | undefined;
    if (!plugin || typeof plugin !== 'object' || typeof plugin.register !== 'function' || typeof plugin.manifest !== 'object') {
      throw new CoreError('PLUGIN_INVALID', `Plugin ${source} must export default { manifest, register }`);
    }
    return plugin;
  }

  /** Checks manifests and dependencies and returns plugins in start order. Runs no plugin code. */
  order(candidates: Array<{ plugin: Plugin; source: string; optional: boolean }>): Array<{ plugin: Plugin; source: string; optional: boolean }> {
    const byId = new Map<string, { plugin: Plugin; source: string; optional: boolean }>();
    for (const candidate of candidates) {
      const manifest = candidate.plugin.manifest;
      this.checkManifest(manifest, candidate.source);
      const existing = byId.get(manifest.id);
      if (existing) throw new CoreError('PLUGIN_DUPLICATE', `Plugin id ${manifest.id} is used by both ${existing.source} and ${candidate.source}`);
      byId.set(manifest.id, candidate);
    }
    for (const { plugin } of byId.values()) {
      for (const dependency of plugin.manifest.dependsOn ?? []) {
        if (!byId.has(dependency)) {
          throw new CoreError('PLUGIN_MISSING_DEPENDENCY', `Plugin ${plugin.manifest.id} depends on ${dependency}, which is not in the plugin list`);
        }
      }
    }
    const ordered: Array<{ plugin: Plugin; source: string; optional: boolean }> = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(id)), id];
        throw new CoreError('PLUGIN_DEPENDENCY_CYCLE', `Plugins depend on each other in a cycle: ${cycle.join(' -> ')}`, { cycle });
      }
      state.set(id, 'visiting');
      const entry = byId.get(id) as { plugin: Plugin; source: string; optional: boolean };
      for (const dependency of entry.plugin.manifest.dependsOn ?? []) visit(dependency, [...path, id]);
      state.set(id, 'done');
      ordered.push(entry);
    };
    for (const id of byId.keys()) visit(id, []);
    return ordered;
  }

  private checkManifest(manifest: PluginManifest, source: string): void {
    const fail = (message: string) => { throw new CoreError('PLUGIN_MANIFEST_INVALID', `Plugin ${source}: ${message}`); };
    if (typeof manifest.id !== 'string' || !PLUGIN_ID.test(manifest.id)) fail(`id ${JSON.stringify(manifest.id)} must be lower-case letters, digits and dashes`);
    if (!semver.valid(manifest.version)) fail(`version ${JSON.stringify(manifest.version)} is not semver`);
    if (!semver.validRange(manifest.core)) fail(`core range ${JSON.stringify(manifest.core)} is not a semver range`);
    if (!semver.satisfies(this.options.coreVersion, manifest.core, { includePrerelease: true })) {
      throw new CoreError('PLUGIN_CORE_MISMATCH', `Plugin ${manifest.id} supports core ${manifest.core}, this core is ${this.options.coreVersion}`);
    }
  }

  /** Validates each plugin's settings and runs its synchronous registration. */
  registerAll(ordered: Array<{ plugin: Plugin; source: string; optional: boolean }>): void {
    for (const { plugin, source, optional } of ordered) {
      const config = this.pluginConfig(plugin);
      const id = plugin.manifest.id;
      const module = new ContainerModule(({ bind }) => {
        plugin.register({
          config,
          bind,
          trigger: (c) => { this.contributions.triggers.add(id, c); bind(c.impl).toSelf().inSingletonScope(); },
          action: (c) => { this.contributions.actions.add(id, c); bind(c.impl).toSelf().inSingletonScope(); },
          policy: (c) => { this.contributions.policies.add(id, c); bind(c.impl).toSelf().inSingletonScope(); },
          routes: (impl) => { this.controllers.push({ plugin: id, impl }); bind(impl).toSelf().inSingletonScope(); },
          job: (definition) => {
            this.contributions.addJob(id, definition);
            bind(definition.handler).toSelf().inSingletonScope();
            this.scheduler.define(definition.name, () => this.container.get(definition.handler), { concurrency: definition.concurrency, lockLifetimeMs: definition.lockLifetimeMs });
          },
          topic: (definition) => this.contributions.addTopic(id, definition),
          model: <T>(definition: ModelDefinition<T>) => {
            this.mongo.register(definition);
            bind(definition.token).toDynamicValue(() => this.mongo.model(definition)).inSingletonScope();
          },
          permissions: (grants) => { for (const [permission, role] of Object.entries(grants)) this.permissions.grant(id, permission, role); },
          lifecycle: (impl) => {
            if (this.lifecycles.has(id)) throw new CoreError('PLUGIN_REGISTER_FAILED', `Plugin ${id} registers more than one lifecycle`);
            this.lifecycles.set(id, impl);
            bind(impl).toSelf().inSingletonScope();
          },
          authenticator: (impl) => {
            if (this.authenticatorImpl) {
              throw new CoreError('PLUGIN_DUPLICATE_AUTHENTICATOR', `Plugins ${this.authenticatorImpl.plugin} and ${id} both provide the authenticator`);
            }
            this.authenticatorImpl = { plugin: id, impl };
            bind(impl).toSelf().inSingletonScope();
          },
          command: (definition) => {
            this.contributions.addCommand(id, definition);
            bind(definition.handler).toSelf().inSingletonScope();
          },
        });
      });
      try {
        this.container.load(module);
      } catch (error) {
        if (error instanceof CoreError) throw error;
        throw new CoreError('PLUGIN_REGISTER_FAILED', `Plugin ${id} failed to register: ${(error as Error).message}`, undefined, { cause: error });
      }
      this.loaded.push({ plugin, source, optional, state: 'registered' });
    }
  }

  private pluginConfig(plugin: Plugin): unknown {
    const raw = structuredClone(this.options.settings[plugin.manifest.id] ?? {}) as Record<string, unknown>;
    for (const [variable, path] of Object.entries(plugin.manifest.environment ?? {})) {
      const value = this.options.env[variable];
      if (value === undefined || value === '') continue;
      const keys = path.split('.');
      let node = raw;
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[keys[keys.length - 1] as string] = value;
    }
    if (plugin.manifest.configSchema) {
      const validate = createAjv({ useDefaults: true }).compile(plugin.manifest.configSchema);
      if (!validate(raw)) {
        const issues = describeErrors(validate.errors, `pluginSettings.${plugin.manifest.id}.`);
        throw new CoreError('PLUGIN_CONFIG_INVALID', `Plugin ${plugin.manifest.id} has invalid settings: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
      }
    }
    return deepFreeze(raw);
  }

  /** Starts plugins in order, one at a time. A failing optional plugin is logged and skipped. */
  async startAll(): Promise<void> {
    for (const entry of this.loaded) {
      const id = entry.plugin.manifest.id;
      const impl = this.lifecycles.get(id);
      try {
        if (impl) {
          const lifecycle = this.container.get(impl);
          if (lifecycle.start) await withTimeout(lifecycle.start(), this.options.startTimeoutMs, () => new CoreError('PLUGIN_START_TIMEOUT', `Plugin ${id} did not finish starting within ${this.options.startTimeoutMs} ms`));
        }
        entry.state = 'started';
      } catch (error) {
        entry.state = 'failed';
        entry.error = (error as Error).message;
        const failure = error instanceof CoreError ? error : new CoreError('PLUGIN_START_FAILED', `Plugin ${id} failed to start: ${(error as Error).message}`, undefined, { cause: error });
        if (!entry.optional) throw failure;
        this.logger.error('optional plugin failed to start', { plugin: id, code: failure.code, error: failure.message });
      }
    }
  }

  /** Stops started plugins in reverse order; each gets its timeout, errors are collected. */
  async stopAll(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const entry of [...this.loaded].reverse()) {
      if (entry.state !== 'started') continue;
      const id = entry.plugin.manifest.id;
      const impl = this.lifecycles.get(id);
      try {
        if (impl) {
          const lifecycle = this.container.get(impl);
          if (lifecycle.stop) await withTimeout(lifecycle.stop(), this.options.stopTimeoutMs, () => new CoreError('PLUGIN_STOP_TIMEOUT', `Plugin ${id} did not stop within ${this.options.stopTimeoutMs} ms`));
        }
        entry.state = 'stopped';
      } catch (error) {
        this.logger.error('plugin failed to stop', { plugin: id, error: (error as Error).message });
        errors.push(error as Error);
      }
    }
    return errors;
  }

  /** Resolves route controllers (after registration, so they can inject anything). */
  collectRoutes(): void {
    const seen = new Map<string, string>();
    for (const { route } of this.contributions.routes) seen.set(`${route.method} ${route.path}`, 'core');
    for (const { plugin, impl } of this.controllers) {
      for (const route of this.container.get(impl).routes()) {
        const key = `${route.method} ${route.path}`;
        if (seen.has(key)) throw new CoreError('PLUGIN_DUPLICATE_ROUTE', `Route ${route.method.toUpperCase()} ${route.path} is served by both ${seen.get(key)} and ${plugin}`);
        if (route.permission !== 'public' && !this.permissions.has(route.permission)) {
          throw new CoreError('PERMISSION_UNKNOWN', `Route ${route.method.toUpperCase()} ${route.path} of ${plugin} needs ${route.permission}, which no plugin grants`);
        }
        seen.set(key, plugin);
        this.contributions.routes.push({ plugin, route });
      }
    }
    for (const { plugin, definition } of this.contributions.topics.values()) {
      if (definition.permission !== 'public' && !this.permissions.has(definition.permission)) {
        throw new CoreError('PERMISSION_UNKNOWN', `Topic ${definition.name} of ${plugin} needs ${definition.permission}, which no plugin grants`);
      }
    }
  }

  authenticator(): Authenticator | null {
    return this.authenticatorImpl ? this.container.get(this.authenticatorImpl.impl) : null;
  }
}

/** Settles like `work`, or rejects with `timedOut()` after `ms` (the error is built in place so its code can be found by grep). */
async function withTimeout<T>(work: Promise<T>, ms: number, timedOut: () => CoreError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(timedOut()), ms); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

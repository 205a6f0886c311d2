/**
 * Composes a Flowgate server: the container with the core services, the plugins, storage,
 * scheduler, HTTP and realtime, started in a fixed order and stopped in the reverse one.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Container, type ServiceIdentifier } from 'inversify';
import type { Logger } from 'winston';
import { CoreError } from './errors.js';
import type { CommandIO } from './plugin-api.js';
import type { FlowgateConfig } from './config/config-schema.js';
import { createHttpApp } from './http/http-app.js';
import { RequestLimiter } from './http/request-limits.js';
import { buildOpenApi, type OpenApiDocument } from './http/openapi.js';
import { platformRoutes } from './http/platform-routes.js';
import { createLogger } from './logging/logger.js';
import { Metrics } from './observability/metrics.js';
import { builtinPluginDir, coreVersion, projectRoot } from './paths.js';
import { Contributions } from './plugins/contributions.js';
import { PluginHost } from './plugins/plugin-host.js';
import { Realtime } from './realtime/realtime.js';
import { CoreEvents } from './events/core-events.js';
import { Maintenance } from './maintenance.js';
import { Scheduler } from './scheduling/scheduler.js';
import { PermissionCatalog } from './security/roles.js';
import { MongoConnection } from './storage/mongo.js';
import { RedisConnection } from './storage/redis.js';
import { ConfigToken, ContainerToken, LoggerToken, WorkflowEventsToken } from './tokens.js';
import { EngineClock } from './engine/clock.js';
import { PolicyEvaluator } from './engine/policy-evaluator.js';
import { WorkflowEngine } from './engine/workflow-engine.js';
import { enginePermissions, engineRoutes, engineTopics } from './engine/engine-routes.js';

export interface FlowgateServerOptions {
  config: FlowgateConfig;
  logger?: Logger;
}

export class FlowgateServer {
  readonly container = new Container({ defaultScope: 'Singleton' });
  readonly contributions = new Contributions();
  readonly permissions = new PermissionCatalog();
  readonly logger: Logger;
  readonly plugins: PluginHost;
  private http: HttpServer | null = null;
  private openApiDocument: OpenApiDocument | null = null;
  private stopping: Promise<void> | null = null;
  private registered = false;

  constructor(readonly config: FlowgateConfig, logger?: Logger) {
    this.logger = logger ?? createLogger({ level: config.log.level });
    this.container.bind(ConfigToken).toConstantValue(config);
    this.container.bind(LoggerToken).toConstantValue(this.logger);
    this.container.bind(Contributions).toConstantValue(this.contributions);
    this.container.bind(PermissionCatalog).toConstantValue(this.permissions);
    this.container.bind(MongoConnection).toSelf().inSingletonScope();
    this.container.bind(RedisConnection).toSelf().inSingletonScope();
    this.container.bind(Scheduler).toSelf().inSingletonScope();
    this.container.bind(Realtime).toSelf().inSingletonScope();
    this.container.bind(Metrics).toSelf().inSingletonScope();
    this.container.bind(CoreEvents).toSelf().inSingletonScope();
    this.container.bind(Maintenance).toSelf().inSingletonScope();
    this.container.bind(ContainerToken).toConstantValue(this.container);
    this.container.bind(EngineClock).toSelf().inSingletonScope();
    this.container.bind(PolicyEvaluator).toSelf().inSingletonScope();
    this.container.bind(WorkflowEngine).toSelf().inSingletonScope();
    this.container.bind(WorkflowEventsToken).toService(WorkflowEngine);
    this.permissions.grant('core', 'plugins:read', 'viewer');
    for (const [permission, role] of Object.entries(enginePermissions)) this.permissions.grant('core', permission, role);
    for (const topic of engineTopics) this.contributions.addTopic('core', topic);
    this.plugins = new PluginHost({
      coreVersion,
      projectRoot,
      builtinDir: builtinPluginDir,
      settings: config.pluginSettings as Record<string, unknown>,
      env: process.env,
      startTimeoutMs: config.lifecycle.startTimeoutMs,
      stopTimeoutMs: config.lifecycle.stopTimeoutMs,
    }, this.container, this.contributions, this.permissions, this.get(MongoConnection), this.get(Scheduler), this.logger);
  }

  get<T>(token: ServiceIdentifier<T>): T {
    return this.container.get<T>(token);
  }

  /** Imports and registers the configured plugins without connecting to anything; runs once. */
  async registerPlugins(): Promise<void> {
    if (this.registered) return;
    this.registered = true;
    const imported = await this.plugins.importAll(this.config.plugins);
    this.plugins.registerAll(this.plugins.order(imported));
  }

  /**
   * Boots everything and listens (unless `listen` is false, as for CLI commands). On failure,
   * whatever started is stopped again before throwing.
   */
  async start(options: { listen?: boolean } = {}): Promise<void> {
    try {
      await this.registerPlugins();
      // Created now so that its models and jobs are registered before storage and the scheduler start.
      const engine = this.get(WorkflowEngine);
      await this.get(MongoConnection).connect();
      await this.get(RedisConnection).connect();
      await this.get(Scheduler).start();
      const maintenance = this.get(Maintenance);
      maintenance.onChange((state) => (state.active ? this.get(Scheduler).pause() : this.get(Scheduler).resume()));
      await maintenance.start();
      await this.plugins.startAll();
      await engine.start();
      this.contributions.routes.push(...engineRoutes(engine).map((route) => ({ plugin: 'core', route })));
      this.contributions.routes.push(...platformRoutes({
        checks: () => this.readiness(),
        metrics: async () => {
          const registry = this.get(Metrics).registry;
          return { contentType: registry.contentType, body: await registry.metrics() };
        },
        openApi: () => this.openApi(),
        plugins: () => this.describePlugins(),
      }).map((route) => ({ plugin: 'core', route })));
      this.plugins.collectRoutes();
      if (options.listen === false) return;
      await this.listen();
      this.logger.info('flowgate started', { url: this.url, plugins: this.plugins.loaded.map((p) => p.plugin.manifest.id) });
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  private async listen(): Promise<void> {
    const app = createHttpApp({
      bodyLimit: this.config.http.bodyLimit,
      validateResponses: this.config.http.validateResponses,
      trustProxy: this.config.http.trustProxy,
      authenticator: () => this.plugins.authenticator(),
      logger: this.logger,
      metrics: this.get(Metrics),
      routes: this.contributions.routes,
      onMutation: (event) => this.get(CoreEvents).emit('api.request', event),
      storageReady: () => this.get(MongoConnection).ready,
      limiter: this.requestLimiter(),
      writesPausedBy: () => {
        const state = this.get(Maintenance).state;
        return state.active ? state.reason ?? 'maintenance' : null;
      },
    });
    const server = createServer(app);
    server.keepAliveTimeout = 65_000;
    this.get(Realtime).attach(server, this.contributions, () => this.plugins.authenticator());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.http.port, this.config.http.host, () => { server.off('error', reject); resolve(); });
    });
    this.http = server;
  }

  private requestLimiter(): RequestLimiter | null {
    const settings = this.config.http.rateLimit;
    if (settings.perIp === 0 && settings.perCredential === 0) return null;
    return new RequestLimiter(settings, () => this.get(RedisConnection), this.logger);
  }

  get url(): string {
    const address = this.http?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('The server is not listening');
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  openApi(): OpenApiDocument {
    this.openApiDocument ??= buildOpenApi(this.contributions.routes, coreVersion);
    return this.openApiDocument;
  }

  async readiness(): Promise<Record<string, { ok: boolean; detail?: string }>> {
    const mongo = await this.get(MongoConnection).ping();
    const redis = this.get(RedisConnection);
    let redisOk = redis.ready;
    if (redisOk) redisOk = await redis.client.ping().then(() => true, () => false);
    return {
      mongodb: { ok: mongo, ...(mongo ? {} : { detail: 'no answer to ping' }) },
      redis: { ok: redisOk, ...(redisOk ? {} : { detail: `connection ${redis.client.status}` }) },
      scheduler: { ok: this.get(Scheduler).ready },
    };
  }

  describePlugins(): unknown[] {
    const byPlugin = <T>(list: Array<{ plugin: string } & T>, id: string) => list.filter((e) => e.plugin === id);
    return this.plugins.loaded.map(({ plugin, state, error }) => {
      const id = plugin.manifest.id;
      return {
        id, version: plugin.manifest.version, state,
        ...(plugin.manifest.description ? { description: plugin.manifest.description } : {}),
        ...(error ? { error } : {}),
        dependsOn: [...(plugin.manifest.dependsOn ?? [])],
        triggers: byPlugin(this.contributions.triggers.list(), id).map((t) => ({ type: t.id, summary: t.contribution.summary, config: t.contribution.config, event: this.contributions.triggerEventSchema(t), ...(t.contribution.listensTo ? { listensTo: t.contribution.listensTo } : {}) })),
        actions: byPlugin(this.contributions.actions.list(), id).map((a) => ({ type: a.id, summary: a.contribution.summary, input: a.contribution.input, output: a.contribution.output, ports: a.contribution.ports ?? [], idempotent: a.contribution.idempotent })),
        policies: byPlugin(this.contributions.policies.list(), id).map((p) => ({ type: p.id, summary: p.contribution.summary, config: p.contribution.config })),
        topics: [...this.contributions.topics.values()].filter((t) => t.plugin === id).map((t) => ({ name: t.definition.name, permission: t.definition.permission, summary: t.definition.summary })),
        jobs: [...this.contributions.jobs.values()].filter((j) => j.plugin === id).map((j) => j.definition.name),
      };
    });
  }

  /**
   * Runs a plugin command (`flowgate user:create …`): boots without listening, runs it, stops.
   * Unknown commands throw CoreError COMMAND_UNKNOWN.
   */
  async runCommand(name: string, args: readonly string[], io: CommandIO): Promise<number> {
    await this.registerPlugins();
    const command = this.contributions.findCommand(name);
    if (!command) throw new CoreError('COMMAND_UNKNOWN', `Unknown command ${JSON.stringify(name)}; \`flowgate help\` lists the commands of the configured plugins`);
    await this.start({ listen: false });
    try {
      return await this.get(command.definition.handler).run(args, io);
    } finally {
      await this.stop();
    }
  }

  /** Stops in reverse order of start; safe to call twice and after a failed start. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.get(Realtime).close();
      if (this.http?.listening) await new Promise<void>((resolve) => this.http?.close(() => resolve()));
      this.http?.closeAllConnections();
      await this.get(WorkflowEngine).stop().catch((error: Error) => this.logger.error('engine stop failed', { error: error.message }));
      await this.get(Scheduler).stop().catch((error: Error) => this.logger.error('scheduler stop failed', { error: error.message }));
      await this.plugins.stopAll();
      await this.get(RedisConnection).close();
      await this.get(MongoConnection).close();
    })();
    return this.stopping;
  }
}

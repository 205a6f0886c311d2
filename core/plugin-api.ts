/**
 * The contract between the core and plugins. Plugins import from `core/index.ts` only; they
 * never see the inversify container, only the narrow registrar below.
 */
import type { ContainerModuleLoadOptions, Newable, ServiceIdentifier } from 'inversify';
import type { Schema, Model } from 'mongoose';
import type { Logger } from 'winston';
import type { Request, Response } from 'express';

/** A JSON Schema (draft 2020-12) compiled by the core's ajv. */
export type JsonSchema = Record<string, unknown>;
export type Dispose = () => Promise<void>;

/** Static identity of a plugin, checked before any of its code runs. */
export interface PluginManifest {
  /** Lower-case id; prefixes every type the plugin contributes (`consent.revoke@1`). */
  readonly id: string;
  /** Semver of the plugin. */
  readonly version: string;
  /** Semver range of the core the plugin supports. */
  readonly core: string;
  /** Plugin ids this plugin needs; they register and start first. */
  readonly dependsOn?: readonly string[];
  /** One sentence for `GET /api/plugins` and the docs. */
  readonly description?: string;
  /** Validates `pluginSettings.<id>` in config before register() runs; defaults are filled in. */
  readonly configSchema?: JsonSchema;
  /**
   * Environment variables that set a setting, e.g. `{ WHATSAPP_APP_SECRET: 'appSecret' }`
   * (dotted paths reach nested settings). Secrets belong here, never in config files.
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** A plugin: a manifest plus one synchronous, side-effect-free registration function. */
export interface Plugin<C = unknown> {
  readonly manifest: PluginManifest;
  /** Called once at boot, in dependency order. Throwing stops boot with PLUGIN_REGISTER_FAILED. */
  register(registrar: PluginRegistrar<C>): void;
}

/** The narrow facade through which a plugin contributes. */
export interface PluginRegistrar<C = unknown> {
  /** The plugin's config, validated by its configSchema and frozen. */
  readonly config: C;
  /** Binds plugin-internal services into the container; use tokens unique to the plugin. */
  readonly bind: ContainerModuleLoadOptions['bind'];
  trigger(contribution: TriggerContribution): void;
  action(contribution: ActionContribution): void;
  policy(contribution: PolicyContribution): void;
  /** An injectable class whose `routes()` lists the HTTP routes it serves. */
  routes(controller: Newable<RouteController>): void;
  /** A named Agenda job; its handler is resolved from the container when the job runs. */
  job(definition: JobDefinition): void;
  /** A Socket.IO topic clients may subscribe to, with the permission it needs. */
  topic(definition: TopicDefinition): void;
  /** A mongoose model; injected through `definition.token`, backed up, indexes built at start. */
  model<T>(definition: ModelDefinition<T>): void;
  /** Permissions this plugin's routes and topics use, each with the lowest role that has it. */
  permissions(grants: Record<string, RoleName>): void;
  /** Async start/stop work, resolved from the container so it can inject services. */
  lifecycle(impl: Newable<PluginLifecycle>): void;
  /** At most one plugin provides it: turns request credentials into a principal. */
  authenticator(impl: Newable<Authenticator>): void;
  /** A `flowgate <name>` command line command, run with the plugins started but no HTTP listener. */
  command(definition: CommandDefinition): void;
}

export interface PluginLifecycle {
  /** Runs after every plugin registered, in dependency order, one at a time, with a timeout. */
  start?(): Promise<void>;
  /** Runs in reverse order at shutdown, each with a timeout; errors are logged, not thrown. */
  stop?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Workflow contributions

interface ContributionBase<Impl> {
  /** Local name; the full type id is `${plugin}.${type}@${version}`. */
  readonly type: string;
  /** Bump on a behaviour change and keep the old version registered while workflows use it. */
  readonly version: number;
  /** One line for the docs and `GET /api/plugins`. */
  readonly summary: string;
  readonly impl: Newable<Impl>;
}

interface TriggerContributionBase extends ContributionBase<Trigger> {
  /** Schema of `trigger.config` in a workflow; checked when the workflow is loaded. */
  readonly config: JsonSchema;
}

/**
 * A trigger either produces events of its own (`event`: the payload schema, what `{{trigger.…}}`
 * can reach), or selects from another plugin's trigger's events (`listensTo`: that trigger's
 * full type id). A listening trigger stores nothing per event: the engine offers it each event
 * of that type and its `matches` decides, so a filter such as "an opt-out keyword" starts one
 * execution instead of one per workflow that would otherwise look and end. Its payload is the
 * other trigger's.
 */
export type TriggerContribution = TriggerContributionBase & (
  | { readonly event: JsonSchema; readonly listensTo?: undefined }
  | { readonly listensTo: string; readonly event?: undefined }
);

export interface ActionContribution extends ContributionBase<Action> {
  /** Schema of the rendered step input; checked at load (shape) and before each run (values). */
  readonly input: JsonSchema;
  /** Schema of the output (what `{{steps.<id>.output.…}}` can reach). */
  readonly output: JsonSchema;
  /** Output ports besides `default` and `error` that `next` may name. */
  readonly ports?: readonly string[];
  /** True when repeating the action with the same idempotency key has no further effect. */
  readonly idempotent: boolean;
}

export interface PolicyContribution extends ContributionBase<Policy> {
  /** Schema of the policy's `config` in a workflow. */
  readonly config: JsonSchema;
}

/** A workflow-visible event, as stored by the engine before any workflow runs. */
export interface TriggerEvent<P = Record<string, unknown>> {
  /** Full trigger type id, e.g. `whatsapp.message@1`. */
  readonly type: string;
  /** Unique id from the source (provider message id…): a redelivery with the same id is a no-op. */
  readonly sourceId: string;
  readonly payload: P;
  readonly occurredAt?: Date;
  /** Only this workflow may run from the event (manual runs, per-workflow schedules and webhooks). */
  readonly workflowId?: string;
}

export interface TriggerContext {
  readonly workflowId: string;
  readonly logger: Logger;
  /** Hands an event for this workflow to the engine, persisted and deduplicated by `sourceId`. */
  emit(event: Omit<TriggerEvent, 'type'>): Promise<SubmittedEvent>;
}

/**
 * A trigger describes events of one type. Most triggers are fed by their plugin through the
 * engine (`WorkflowEvents.submit`); `activate` is for triggers that listen per workflow (a cron
 * schedule, a webhook path) and returns its own stop function.
 */
export interface Trigger<C = unknown> {
  activate?(config: Readonly<C>, ctx: TriggerContext): Promise<Dispose>;
  /** Extra matching beyond the workflow's `when` schema, e.g. a keyword list. */
  matches?(config: Readonly<C>, payload: unknown): boolean;
}

export interface RunContext {
  readonly executionId: string;
  readonly workflowId: string;
  readonly stepId: string;
  /** `${executionId}:${stepId}[:index]`: pass it to anything with an effect so a retry repeats none. */
  readonly idempotencyKey: string;
  /** True in dry runs: describe the effect, do not perform it. */
  readonly simulate: boolean;
  readonly attempt: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

export interface ActionResult<O = unknown> {
  output: O;
  /** Output port for `next`; `default` when omitted. */
  port?: string;
}

export interface Action<I = unknown, O = unknown> {
  /** One unit of work. Throw StepError to fail (retryable or not). */
  execute(input: I, ctx: RunContext): Promise<ActionResult<O>>;
  /**
   * The result of an earlier attempt under `ctx.idempotencyKey` whose effect exists, or null.
   * Asked for an idempotent step that a process which stopped may already have run (its progress
   * was not saved yet), before the step's policies judge it again: by now they may answer
   * otherwise (a window closed, consent changed) although the effect happened. A recalled step
   * is recorded as succeeded with `recalled: true`, its policies not asked.
   */
  recall?(input: I, ctx: RunContext): Promise<ActionResult<O> | null>;
}

export type Verdict =
  | { decision: 'allow' }
  | { decision: 'deny'; code: string; reason: string }
  | { decision: 'defer'; code: string; reason: string; until: Date };

export interface PolicyCheck<C = unknown> {
  readonly config: Readonly<C>;
  /** The step being guarded, with its rendered input. */
  readonly step: { readonly id: string; readonly action: string; readonly input: unknown };
  readonly run: RunContext;
}

export interface Policy<C = unknown> {
  /** Runs before each step it guards. A deny ends that path; a defer parks the execution. */
  check(request: PolicyCheck<C>): Promise<Verdict>;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The permission `public` lets anyone in; every other value is a `resource:action` permission. */
export type Permission = 'public' | `${string}:${string}`;

export interface Principal {
  readonly kind: 'user' | 'apiKey' | 'system';
  readonly id: string;
  readonly role: RoleName;
  readonly permissions: ReadonlySet<string>;
  /** Token or key id, so a revoked credential's sockets can be found and closed. */
  readonly credentialId?: string;
}

export interface ApiRequest<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly principal: Principal | null;
  readonly requestId: string;
  readonly ip: string;
  readonly logger: Logger;
  /** The raw request body, for signatures; set only on routes that ask for `rawBody`. */
  readonly rawBody?: Buffer;
  readonly headers: Request['headers'];
}

export interface ApiResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** Express path, e.g. `/api/messages/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tags?: readonly string[];
  readonly permission: Permission;
  readonly params?: JsonSchema;
  readonly query?: JsonSchema;
  readonly body?: JsonSchema;
  /** Response schemas by status; 2xx responses are checked against them when configured. */
  readonly responses: Record<number, {
    description: string;
    schema?: JsonSchema;
    /** Media type of the body (default JSON); a list when a query picks one, e.g. NDJSON or CSV. */
    contentType?: string | readonly string[];
  }>;
  /** Keep the raw bytes of the body (webhook signatures). */
  readonly rawBody?: boolean;
  /** Body size limit for this route, e.g. `3mb`; defaults to config http.bodyLimit. */
  readonly bodyLimit?: string;
  /**
   * Which answered calls of a mutating route are told to the audit log: `all` (the default), or
   * only `refused` ones (4xx) — for machine deliveries such as provider webhooks, whose accepted
   * calls are stored by the plugin itself and whose effects are audited where they happen.
   */
  readonly audit?: 'all' | 'refused';
  /**
   * Returns the result to send, or `undefined` after streaming the response itself through `res`.
   */
  handler(request: ApiRequest, res: Response): Promise<ApiResult | undefined>;
}

export interface RouteController {
  routes(): RouteDefinition[];
}

// ---------------------------------------------------------------------------------------------
// Jobs, realtime, models, security

export interface JobContext {
  readonly jobId: string;
  /**
   * The time this run is for (when the job was due), the same in every process that could have
   * picked it up: derive idempotency keys from it, e.g. one workflow event per scheduled fire.
   */
  readonly scheduledFor: Date;
  readonly logger: Logger;
  /**
   * Run this job next at `at`: for a recurring job instead of when its repeat interval says (e.g.
   * to keep the runs on a timetable of the handler's own), for a one-time job once more. Takes
   * effect when this run ends, when Agenda saves the job: a handler rescheduling its own job
   * through `Scheduler.at` would see that save clear the new time.
   */
  runNextAt(at: Date): void;
}

export interface JobHandler<D = unknown> {
  run(data: D, ctx: JobContext): Promise<void>;
}

export interface JobDefinition {
  /** Full job name, prefixed by the plugin id: `backup.run`. */
  readonly name: string;
  readonly handler: Newable<JobHandler>;
  readonly concurrency?: number;
  /** How long a run may hold its lock before another process may take it over. */
  readonly lockLifetimeMs?: number;
}

export interface TopicDefinition {
  /** Topic name clients subscribe to, e.g. `consent`. */
  readonly name: string;
  readonly permission: Permission;
  readonly summary: string;
  /** Event name → payload schema, published in docs/realtime.md. */
  readonly events: Record<string, JsonSchema>;
}

export interface ModelDefinition<T> {
  readonly name: string;
  readonly schema: Schema<T>;
  /** Injection token for the mongoose Model. */
  readonly token: ServiceIdentifier<Model<T>>;
  /** False only for caches and derived data that a restore must not bring back. */
  readonly backup: boolean;
}

/** A command of the `flowgate` CLI contributed by a plugin, e.g. `user:create`. */
export interface CommandDefinition {
  /** `topic:verb` in lower case, unique across plugins; `start`, `validate`, `test` and `help` belong to the core. */
  readonly name: string;
  /** One line for `flowgate help`. */
  readonly summary: string;
  /** Options and arguments, shown by `flowgate help` under the summary. */
  readonly usage?: string;
  /**
   * Other names that run the command, e.g. `backup` for `backup:create`: a lower-case word or
   * `topic:verb`, unique across the CLI and never one of the core's commands.
   */
  readonly aliases?: readonly string[];
  /** More lines for `flowgate <name> --help`: what the options mean, what the exit codes say. */
  readonly help?: string;
  readonly handler: Newable<CommandHandler>;
}

/** Where a command writes; tests and the CLI pass process streams. */
export interface CommandIO {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface CommandHandler {
  /**
   * Runs once with the arguments after the command name, after every plugin started (MongoDB,
   * Redis and the scheduler connected; jobs are not processed). Resolves to the exit code: 0
   * success, 1 failure, 2 bad usage. Throwing counts as 1 and prints the message.
   */
  run(args: readonly string[], io: CommandIO): Promise<number>;
}

export const ROLES = ['owner', 'admin', 'manager', 'agent', 'analyst', 'viewer'] as const;
export type RoleName = (typeof ROLES)[number];

export interface Credentials {
  readonly bearerToken?: string;
  readonly apiKey?: string;
  readonly ip: string;
}

export interface Authenticator {
  /** Returns the principal, null when no credentials were given; throws HttpError(401) when they are bad. */
  authenticate(credentials: Credentials): Promise<Principal | null>;
  /**
   * Called with a principal whose socket stays open, so a revoked credential can be dropped. Throw
   * when the answer cannot be known (the database unreachable): that is no yes, and a socket left
   * unconfirmed for `realtime.revalidateGraceMs` is closed.
   */
  isStillValid?(principal: Principal): Promise<boolean>;
}

export type { Logger };

// ---------------------------------------------------------------------------------------------
// Handing events to workflows

export interface SubmittedEvent {
  /** Id of the stored event. */
  readonly eventId: string;
  /** True when an event with the same type and sourceId was stored before: nothing new happens. */
  readonly duplicate: boolean;
}

/**
 * Where plugins hand events to the workflow engine (inject `WorkflowEventsToken`). The event is
 * stored first, unique on `type` + `sourceId`, so a redelivered webhook is a no-op; workflows
 * whose trigger matches then run from the stored event, on this or any other process.
 */
export interface WorkflowEvents {
  submit(event: TriggerEvent): Promise<SubmittedEvent>;
}

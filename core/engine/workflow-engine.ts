/**
 * The workflow engine: takes events from plugins (stored first, deduplicated), starts the
 * workflows they match, runs executions under leases, resumes what other processes left
 * behind, and parks executions that wait (retry backoff, policy deferral) for Agenda to wake.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, isAbsolute } from 'node:path';
import { Container, inject, injectable } from 'inversify';
import type { Model, UpdateQuery } from 'mongoose';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import type { FlowgateConfig } from '../config/config-schema.js';
import { HttpError } from '../errors.js';
import { CoreEvents } from '../events/core-events.js';
import { Maintenance } from '../maintenance.js';
import { Metrics } from '../observability/metrics.js';
import { projectRoot } from '../paths.js';
import type { Dispose, SubmittedEvent, Trigger, TriggerEvent, WorkflowEvents } from '../plugin-api.js';
import { Contributions } from '../plugins/contributions.js';
import { Realtime } from '../realtime/realtime.js';
import { Scheduler } from '../scheduling/scheduler.js';
import { MongoConnection } from '../storage/mongo.js';
import { RedisConnection } from '../storage/redis.js';
import { ConfigToken, ContainerToken, LoggerToken } from '../tokens.js';
import { EngineClock } from './clock.js';
import { DueIndex } from './due-index.js';
import { StepDriver, type ExecutionState, type ProgressSink } from './execution-runner.js';
import {
  ExecutionModel, FINISHED, WorkflowEventModel, WorkflowModel, WorkflowVersionModel,
  type ExecutionRecord, type StepTrailRecord, type WorkflowEventRecord,
} from './models.js';
import { PolicyEvaluator } from './policy-evaluator.js';
import { WorkflowCompiler, type CompiledWorkflow } from './workflow-compiler.js';
import { WorkflowInvalidError, WorkflowRegistry } from './workflow-registry.js';
import type { WorkflowDefinition } from './workflow-schema.js';

export const RESUME_JOB = 'engine.resume';

export interface DryRunResult {
  matched: boolean;
  reason?: string;
  status: ExecutionRecord['status'] | 'not-matched';
  steps: Array<Omit<StepTrailRecord, 'inputJson' | 'outputJson' | 'startedAt' | 'finishedAt'> & { input?: unknown; output?: unknown }>;
  outputs: Record<string, unknown>;
  error: ExecutionRecord['error'];
}

const isDuplicateKey = (error: unknown): boolean => (error as { code?: number }).code === 11000;
/** How far back a start looks for events whose executions a crash kept from being stored (see rebuildDueIndex). */
const REDISPATCH_LOOKBACK_MS = 24 * 60 * 60 * 1000;

/**
 * Ids derived from what makes a record unique, so that a repeat is refused by the `_id` index
 * alone (the one index FerretDB v1 uses for lookups): an event by type and source id, an
 * execution by event and workflow. Executions get UUID-shaped ids (idempotency keys embed them).
 */
export function eventIdFor(type: string, sourceId: string): string {
  return createHash('sha256').update(`${type}\u0000${sourceId}`).digest('hex').slice(0, 32);
}

export function executionIdFor(eventId: string, workflowId: string): string {
  const hex = createHash('sha256').update(`${eventId}\u0000${workflowId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
const parse = (text: string | null | undefined): unknown => (text ? JSON.parse(text) : undefined);
/** How long a stop mark lives: longer than any process could go on running an execution without saving it. */
const STOP_MARK_MS = 24 * 3_600_000;

@injectable()
export class WorkflowEngine implements WorkflowEvents {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private registryInstance: WorkflowRegistry | null = null;
  private readonly driver: StepDriver;
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Executions this process claimed and is about to run: a cancellation aborts them before their first step. */
  private readonly claiming = new Map<string, AbortController>();
  /** Until when (ms) this process's lease on each execution it runs is known to hold in MongoDB. */
  private readonly leasedUntil = new Map<string, number>();
  private readonly dispatching = new Set<Promise<void>>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  private cancelSubscriber: Redis | null = null;
  private accepting = false;
  private readonly activations = new Map<string, { version: number; dispose: Dispose }>();
  private readonly counters;
  private due: DueIndex | null = null;
  private sweeping: Promise<void> | null = null;
  private sweepSoon: NodeJS.Timeout | null = null;

  constructor(
    @inject(ConfigToken) private readonly config: FlowgateConfig,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(Metrics) metrics: Metrics,
    @inject(Maintenance) private readonly maintenance: Maintenance,
    @inject(EngineClock) readonly clock: EngineClock,
    @inject(Contributions) private readonly contributions: Contributions,
    @inject(ContainerToken) private readonly container: Container,
    @inject(PolicyEvaluator) policies: PolicyEvaluator,
    @inject(CoreEvents) private readonly coreEvents: CoreEvents,
  ) {
    this.driver = new StepDriver(container, policies, clock, logger, config.engine.checkpointEveryMs);
    this.counters = {
      events: metrics.counter('flowgate_events_total', 'Events handed to the engine', ['type', 'outcome']),
      executions: metrics.counter('flowgate_executions_total', 'Executions finished', ['workflow', 'status']),
      steps: metrics.histogram('flowgate_step_duration_seconds', 'Step durations', ['action', 'status'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]),
    };
    mongo.register(WorkflowModel);
    mongo.register(WorkflowVersionModel);
    mongo.register(WorkflowEventModel);
    mongo.register(ExecutionModel);
    this.scheduler.define(RESUME_JOB, () => ({ run: async (data) => { await this.resume((data as { executionId: string }).executionId); } }), { concurrency: 20 });
  }

  private get executions(): Model<ExecutionRecord> {
    return this.mongo.model(ExecutionModel);
  }

  private get events(): Model<WorkflowEventRecord> {
    return this.mongo.model(WorkflowEventModel);
  }

  private get dueIndex(): DueIndex {
    if (!this.due) throw new Error('The engine has not started');
    return this.due;
  }

  /**
   * Files every unfinished execution and every event whose dispatch may be unfinished in the due
   * index, once per start, reading each collection once (FerretDB scans for any filter but `_id`).
   *
   * An event is unfinished when it is marked undispatched, and also when it is marked dispatched
   * but has fewer executions than it matched: `submit` stores an event so before its executions,
   * and only the due index in Redis remembers the dispatch until they exist, so when the process
   * died in between and Redis lost its data, the shortfall is the only trace. Dispatching it again
   * stores just the missing executions (their ids derive from the event and workflow). Only events
   * of the last REDISPATCH_LOOKBACK_MS are counted, so a start reads a day of history, not all of it.
   */
  private async rebuildDueIndex(): Promise<void> {
    const since = new Date(Date.now() - REDISPATCH_LOOKBACK_MS);
    // Executions are created after their event was received: those since then are all a recent event can have.
    const executions = await this.executions.find(
      { $or: [{ status: { $in: ['queued', 'running', 'waiting'] } }, { createdAt: { $gte: since } }] }, { _id: 1, eventId: 1, status: 1, lease: 1, wakeAt: 1, deadlineAt: 1 },
    ).lean();
    const stored = new Map<string, number>();
    for (const record of executions) {
      stored.set(record.eventId, (stored.get(record.eventId) ?? 0) + 1);
      if (!FINISHED.includes(record.status)) await this.dueIndex.executionDue(record._id, this.dueTime(record), record.deadlineAt);
    }
    const events = await this.events.find(
      { $or: [{ dispatched: false }, { dispatched: true, receivedAt: { $gte: since }, executionCount: { $gt: 0 } }] }, { _id: 1, receivedAt: 1, dispatched: 1, executionCount: 1 },
    ).lean();
    for (const record of events) {
      if (!record.dispatched || (stored.get(record._id) ?? 0) < record.executionCount) await this.dueIndex.eventReceived(record._id, record.receivedAt);
    }
  }

  private dueTime(record: Pick<ExecutionRecord, 'status' | 'lease' | 'wakeAt'>): Date {
    if (record.status === 'running' && record.lease) return record.lease.until;
    if (record.status === 'waiting' && record.wakeAt) return record.wakeAt;
    return this.clock.now();
  }

  get registry(): WorkflowRegistry {
    if (!this.registryInstance) throw new Error('The engine has not started');
    return this.registryInstance;
  }

  compiler(): WorkflowCompiler {
    return new WorkflowCompiler(this.contributions);
  }

  /** Loads workflows, activates triggers that listen, and starts the sweeper. */
  async start(): Promise<void> {
    const dir = isAbsolute(this.config.workflows.dir) ? this.config.workflows.dir : join(projectRoot, this.config.workflows.dir);
    this.registryInstance = new WorkflowRegistry(this.compiler(), this.mongo.model(WorkflowModel), this.mongo.model(WorkflowVersionModel), this.redis, this.realtime, this.logger, dir);
    this.registryInstance.onActiveChange = (id, workflow) => this.activate(id, workflow);
    this.due = new DueIndex(this.redis.client, this.redis.keyPrefix);
    await this.rebuildDueIndex();
    await this.registry.start(this.config.workflows.watch);
    this.cancelSubscriber = this.redis.duplicate('engine-cancel');
    await this.cancelSubscriber.connect();
    await this.cancelSubscriber.subscribe(this.cancelChannel);
    this.cancelSubscriber.on('message', (_c: string, id: string) => {
      this.inFlight.get(id)?.controller.abort(new Error('stopped'));
      this.claiming.get(id)?.abort(new Error('stopped'));
    });
    this.maintenance.onChange((state) => { this.accepting = !state.active; });
    this.accepting = !this.maintenance.state.active;
    this.sweepTimer = setInterval(() => void this.sweep().catch((error: Error) => this.logger.error('engine sweep failed', { error: error.message })), this.config.engine.sweepEveryMs);
    this.sweepTimer.unref();
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(100, Math.floor(this.config.engine.leaseMs / 3)));
    this.leaseTimer.unref();
    await this.sweep();
  }

  /**
   * Triggers that listen per workflow (a webhook path, a cron schedule) are activated when the
   * workflow becomes active and disposed when it stops being active or changes version.
   * Shutdown does not dispose them: other processes keep serving the workflow.
   */
  private async activate(id: string, workflow: CompiledWorkflow | undefined): Promise<void> {
    const current = this.activations.get(id);
    if (current) {
      this.activations.delete(id);
      await current.dispose().catch((error: Error) => this.logger.error('trigger dispose failed', { workflowId: id, error: error.message }));
    }
    if (!workflow) return;
    const trigger = this.container.get<Trigger>(workflow.trigger.registered.contribution.impl);
    if (!trigger.activate) return;
    const logger = this.logger.child({ workflowId: id, trigger: workflow.trigger.registered.id });
    try {
      const dispose = await trigger.activate(workflow.trigger.config, {
        workflowId: id,
        logger,
        emit: (event) => this.submit({ ...event, type: workflow.trigger.registered.id, workflowId: id }),
      });
      this.activations.set(id, { version: workflow.version, dispose });
    } catch (error) {
      logger.error('trigger activation failed; the workflow receives no events from it', { error: (error as Error).message });
    }
  }

  private get cancelChannel(): string {
    return `${this.redis.keyPrefix}engine.cancel`;
  }

  /** Stops taking work; in-flight executions are abandoned (their lease expires and any process resumes them). */
  async stop(): Promise<void> {
    this.accepting = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.sweepSoon) clearTimeout(this.sweepSoon);
    await this.sweeping?.catch(() => undefined);
    await this.renewing;
    await Promise.allSettled([...this.dispatching]);
    for (const { controller } of this.inFlight.values()) controller.abort(new Error('shutting down'));
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    await this.registryInstance?.stop();
    if (this.cancelSubscriber) await this.cancelSubscriber.quit().catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Intake

  /**
   * Stores the event (refusing a repeat by its `_id`) and starts the workflows it matches. When
   * this process dispatches at once, the event is stored already marked dispatched — one write,
   * not two: matching happens in memory, and the due index in Redis holds the event until its
   * executions exist, so the sweeper of any process finishes a dispatch that a crash cut short.
   */
  async submit(event: TriggerEvent): Promise<SubmittedEvent> {
    const record: WorkflowEventRecord = {
      _id: eventIdFor(event.type, event.sourceId), type: event.type, sourceId: event.sourceId, payloadJson: JSON.stringify(event.payload),
      workflowId: event.workflowId ?? null, receivedAt: new Date(), dispatched: false, executionCount: 0,
    };
    const matched = this.accepting ? this.matchingWorkflows(record, event.payload) : null;
    if (matched) Object.assign(record, { dispatched: true, executionCount: matched.length });
    await this.dueIndex.eventReceived(record._id, record.receivedAt);
    try {
      await this.mongo.insertNew(this.events, record);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      this.counters.events.inc({ type: event.type, outcome: 'duplicate' });
      return { eventId: record._id, duplicate: true };
    }
    this.counters.events.inc({ type: event.type, outcome: 'accepted' });
    // Executions get their own copy of the payload, as when the sweeper dispatches from the record.
    if (matched) this.track(this.dispatch(record, JSON.parse(record.payloadJson), matched));
    return { eventId: record._id, duplicate: false };
  }

  /** Enabled workflows the event starts: its trigger type (or one listening to it), `when` and the trigger's `matches`. */
  private matchingWorkflows(record: WorkflowEventRecord, payload: unknown): CompiledWorkflow[] {
    const candidates = record.workflowId
      ? [this.registry.activeById(record.workflowId)].filter((w): w is CompiledWorkflow => Boolean(w))
      : this.registry.activeFor(record.type);
    return candidates.filter((workflow) => this.matches(workflow, payload).matched);
  }

  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work.catch((error: Error) => { this.logger.error('event dispatch failed; the sweeper will retry', { error: error.message }); })
      .finally(() => this.dispatching.delete(tracked));
    this.dispatching.add(tracked);
  }

  /** Starts every workflow the event matches; safe to repeat (one execution per event and workflow). */
  private async dispatch(record: WorkflowEventRecord, payload: unknown = JSON.parse(record.payloadJson), matched = this.matchingWorkflows(record, payload)): Promise<void> {
    const started: ExecutionState[] = [];
    for (const workflow of matched) {
      const state = this.driver.newState(workflow, record._id, payload, false, executionIdFor(record._id, workflow.id));
      const claimNow = this.inFlight.size + started.length < this.config.engine.maxConcurrent;
      const execution = this.toRecord(state, claimNow);
      await this.dueIndex.executionDue(execution._id, this.dueTime(execution), execution.deadlineAt);
      try {
        await this.mongo.insertNew(this.executions, execution);
      } catch (error) {
        if (isDuplicateKey(error)) continue;
        throw error;
      }
      this.realtime.publish('executions', 'execution.started', { executionId: state.id, workflowId: workflow.id, version: workflow.version, eventId: record._id });
      if (claimNow) {
        this.leasedUntil.set(state.id, execution.lease?.until.getTime() ?? 0);
        started.push(state);
      }
    }
    if (!record.dispatched) await this.events.updateOne({ _id: record._id }, { $set: { dispatched: true, executionCount: matched.length } });
    await this.dueIndex.eventDispatched(record._id);
    for (const state of started) this.launch(state);
  }

  matches(workflow: CompiledWorkflow, payload: unknown): { matched: boolean; reason?: string } {
    if (workflow.trigger.when && !workflow.trigger.when(payload)) return { matched: false, reason: 'trigger.when does not match the event' };
    const trigger = this.container.get<Trigger>(workflow.trigger.registered.contribution.impl);
    if (trigger.matches && !trigger.matches(workflow.trigger.config, payload)) return { matched: false, reason: `${workflow.trigger.registered.id} config does not match the event` };
    return { matched: true };
  }

  private toRecord(state: ExecutionState, claimed: boolean): ExecutionRecord {
    const now = this.clock.now();
    const timeout = state.workflow.timeoutMs ?? this.config.engine.executionTimeoutMs;
    return {
      _id: state.id, workflowId: state.workflow.id, workflowVersion: state.workflow.version, eventId: state.eventId,
      triggerType: state.workflow.trigger.registered.id, triggerJson: JSON.stringify(state.trigger),
      status: claimed ? 'running' : 'queued', simulate: false, cursor: state.cursor, stepsJson: '{}', partialJson: null, trail: [],
      lease: claimed ? { owner: this.owner, until: new Date(now.getTime() + this.config.engine.leaseMs) } : null,
      wakeAt: null, deadlineAt: new Date(state.createdAt.getTime() + timeout), error: null, inErrorPath: false,
      createdAt: now, updatedAt: now, finishedAt: null,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Running

  private launch(state: ExecutionState, controller = new AbortController()): void {
    const done = this.driver.drive(state, this.mongoSink(), controller.signal)
      .catch((error: Error) => { this.logger.error('execution stopped unexpectedly; its lease will expire and it will resume', { executionId: state.id, error: error.message }); })
      .finally(() => {
        this.inFlight.delete(state.id);
        this.leasedUntil.delete(state.id);
        if (this.accepting) this.scheduleSweep();
      });
    this.inFlight.set(state.id, { controller, done });
  }

  /**
   * Extends the lease of every execution running here, in one write for all of them: a write per
   * execution grew with the work in flight, and on a slow database (FerretDB takes its one write
   * lock for every update, even one that matches nothing) the heartbeats alone filled the
   * connection, leases expired and other processes took over live executions. A renewal still
   * in progress when the next is due is not doubled up.
   */
  private async renewLeases(): Promise<void> {
    const ids = [...this.inFlight.keys()];
    if (this.renewing || ids.length === 0) return;
    const until = new Date(this.clock.now().getTime() + this.config.engine.leaseMs);
    this.renewing = (async () => {
      // The database's leases first: a Redis outage alone must not let them run out under live work.
      const renewed = await this.executions.updateMany({ _id: { $in: ids }, 'lease.owner': this.owner, status: 'running' }, { $set: { 'lease.until': until } });
      // Executions that ended meanwhile match nothing and have left `inFlight`: only a shortfall
      // among those still running here is worth a look (one missed now is caught next time).
      const running = ids.filter((id) => this.inFlight.has(id));
      const held = renewed.matchedCount >= running.length ? ids : await this.dropLostLeases(running);
      for (const id of held) if (this.leasedUntil.has(id)) this.leasedUntil.set(id, until.getTime());
      await this.dueIndex.executionsDue(held, until);
    })()
      .catch((error: Error) => { this.logger.warn('lease renewal failed', { executions: ids.length, error: error.message }); })
      .finally(() => { this.renewing = null; });
    await this.renewing;
  }

  /**
   * Stops running here what this process no longer holds — its lease ran out while it was slow
   * and another process took the execution over, or it was cancelled or timed out without this
   * process hearing of it — so that only the new owner goes on. Returns the ids still held.
   */
  private async dropLostLeases(ids: string[]): Promise<string[]> {
    // One read by `_id` each (FerretDB serves those from its index; an `$in` filter scans).
    const records = await Promise.all(ids.map((id) => this.executions.findById(id, { status: 1, lease: 1 }).lean()));
    const held = new Set(records.filter((r) => r?.status === 'running' && r.lease?.owner === this.owner).map((r) => (r as ExecutionRecord)._id));
    for (const id of ids.filter((i) => !held.has(i))) {
      this.leasedUntil.delete(id);
      this.inFlight.get(id)?.controller.abort(new Error('lease lost'));
      this.logger.warn('execution no longer held by this process; stopped here', { executionId: id });
    }
    return [...held];
  }

  private mongoSink(): ProgressSink {
    return {
      save: async (state, trail, wakeAt) => {
        const finished = FINISHED.includes(state.status);
        const now = this.clock.now();
        if (wakeAt) await this.dueIndex.executionDue(state.id, wakeAt);
        const saved = await this.saveIfLeased(state.id, {
            $set: {
              status: state.status, cursor: state.cursor, stepsJson: JSON.stringify(state.steps),
              partialJson: state.partial ? JSON.stringify(state.partial) : null, error: state.error, inErrorPath: state.inErrorPath,
              wakeAt, updatedAt: now, ...(finished ? { finishedAt: now } : {}), ...(finished || wakeAt ? { lease: null } : {}),
            },
            ...(trail.length ? { $push: { trail: { $each: trail } } } : {}),
        });
        if (finished && saved) await this.dueIndex.executionDone(state.id);
        return saved;
      },
      onStep: (state, trail) => {
        this.counters.steps.observe({ action: trail.action ?? 'none', status: trail.status }, trail.durationMs / 1000);
        this.realtime.publish('executions', `execution.step`, {
          executionId: state.id, workflowId: state.workflow.id, stepId: trail.stepId, status: trail.status, attempt: trail.attempt,
          durationMs: trail.durationMs, ...(trail.port ? { port: trail.port } : {}), ...(trail.recalled ? { recalled: true } : {}), ...(trail.error ? { error: { code: trail.error.code, message: trail.error.message } } : {}),
        });
      },
      onWaiting: async (state, wakeAt) => {
        this.realtime.publish('executions', 'execution.waiting', { executionId: state.id, workflowId: state.workflow.id, until: wakeAt.toISOString(), stepId: state.cursor?.stepId });
        // Agenda runs on real time; the engine clock may run ahead in tests, so never schedule in the past.
        const delay = wakeAt.getTime() - this.clock.now().getTime();
        await this.scheduler.at(new Date(Date.now() + Math.max(0, delay)), RESUME_JOB, { executionId: state.id }, `resume:${state.id}`);
      },
      onFinished: (state) => this.announceFinished(state),
    };
  }

  /**
   * Writes an execution's progress if this process still holds its lease. The lease is checked
   * in MongoDB (a conditional update; on FerretDB a read, then the write by `_id`) unless this
   * process knows it holds for a third of its length yet: no other process takes an execution
   * before its lease ran out, and a cancellation reaches this process (aborting the run) before
   * its next save. On FerretDB that knowledge saves a read per save; MongoDB needs none anyway.
   */
  private async saveIfLeased(id: string, update: UpdateQuery<ExecutionRecord>): Promise<boolean> {
    const leasedFor = (this.leasedUntil.get(id) ?? 0) - this.clock.now().getTime();
    const known = this.mongo.stockFerretDb && leasedFor > this.config.engine.leaseMs / 3 && !this.inFlight.get(id)?.controller.signal.aborted;
    const saved = known
      ? (await this.executions.updateOne({ _id: id }, update)).matchedCount === 1
      : await this.mongo.updateOneById(this.executions, { _id: id, 'lease.owner': this.owner, status: 'running' }, update);
    if (!saved || !this.mongo.stockFerretDb) return saved;
    // On FerretDB neither form is atomic: a cancellation or timeout written since may just have
    // been overwritten. Its mark in Redis (set before its write) says so; put the stop back.
    const stop = await this.stopMark(id);
    if (!stop) return true;
    await this.executions.updateOne({ _id: id }, { $set: stop });
    this.inFlight.get(id)?.controller.abort(new Error('stopped'));
    return false;
  }

  private stopKey(id: string): string {
    return `${this.redis.keyPrefix}engine.stopped:${id}`;
  }

  /**
   * Marks an execution stopped by an operator or by its timeout, with the fields that say so,
   * before they are written (see saveIfLeased). Best effort: without Redis the stop is only in
   * the database, as it always is on MongoDB.
   */
  private async markStopped(id: string, fields: Partial<ExecutionRecord>): Promise<void> {
    await this.redis.client.set(this.stopKey(id), JSON.stringify(fields), 'PX', STOP_MARK_MS)
      .catch((error: Error) => this.logger.warn('stop mark not set', { executionId: id, error: error.message }));
  }

  private async clearStopMark(id: string): Promise<void> {
    await this.redis.client.del(this.stopKey(id)).catch(() => undefined);
  }

  private async stopMark(id: string): Promise<Partial<ExecutionRecord> | null> {
    const raw = await this.redis.client.get(this.stopKey(id)).catch(() => null);
    return raw ? JSON.parse(raw) as Partial<ExecutionRecord> : null;
  }

  private announceFinished(state: ExecutionState): void {
    const durationMs = this.clock.now().getTime() - state.createdAt.getTime();
    const status = state.status as 'succeeded' | 'failed' | 'cancelled';
    this.counters.executions.inc({ workflow: state.workflow.id, status });
    this.realtime.publish('executions', 'execution.finished', { executionId: state.id, workflowId: state.workflow.id, status, durationMs, error: state.error });
    this.coreEvents.emit('execution.finished', { executionId: state.id, workflowId: state.workflow.id, workflowVersion: state.workflow.version, status, durationMs, error: state.error });
  }

  /**
   * Claims one execution that is resumable now and runs it here. The claim is a conditional
   * update, serialized across processes by a short Redis lock: FerretDB v1 does not isolate
   * concurrent conditional updates of one document, so without the lock two processes could
   * both win (MongoDB itself would not need it).
   */
  async resume(executionId: string): Promise<boolean> {
    if (!this.accepting || this.inFlight.has(executionId)) return false;
    const lock = await this.redis.tryLock(`engine.claim:${executionId}`, 10_000);
    if (!lock) return false;
    let claimed: ExecutionRecord | null;
    const now = this.clock.now();
    const lease = { owner: this.owner, until: new Date(now.getTime() + this.config.engine.leaseMs) };
    try {
      // The record as it was: `running` means its last process stopped holding it (see stateFrom).
      claimed = await this.executions.findOneAndUpdate(
        {
          _id: executionId,
          $or: [
            { status: 'running', 'lease.until': { $lt: now } },
            { status: 'queued' },
            { status: 'waiting', wakeAt: { $lte: now } },
          ],
        },
        { $set: { status: 'running', lease, wakeAt: null, updatedAt: now } },
        { returnDocument: 'before', lean: true },
      );
    } finally {
      await lock.release();
    }
    if (!claimed) return false;
    const controller = new AbortController();
    this.claiming.set(executionId, controller);
    try {
      await this.dueIndex.executionDue(executionId, lease.until);
      let state: ExecutionState;
      try {
        const workflow = await this.registry.compiledVersion(claimed.workflowId, claimed.workflowVersion);
        state = this.stateFrom(claimed, workflow);
      } catch (error) {
        await this.executions.updateOne({ _id: executionId, 'lease.owner': this.owner }, {
          $set: { status: 'failed', lease: null, finishedAt: now, cursor: null, error: { code: 'WORKFLOW_VERSION_UNAVAILABLE', message: (error as Error).message } },
        });
        return false;
      }
      if (claimed.deadlineAt && claimed.deadlineAt < now) {
        await this.failForTimeout(executionId);
        return false;
      }
      // Cancelled between the claim and now (the message may have come, or been missed).
      if (controller.signal.aborted || await this.stopMark(executionId)) return false;
      this.leasedUntil.set(executionId, lease.until.getTime());
      this.launch(state, controller);
      return true;
    } finally {
      this.claiming.delete(executionId);
    }
  }

  private stateFrom(record: ExecutionRecord, workflow: CompiledWorkflow): ExecutionState {
    return {
      id: record._id, workflow, eventId: record.eventId, trigger: JSON.parse(record.triggerJson),
      steps: JSON.parse(record.stepsJson) as ExecutionState['steps'], partial: (parse(record.partialJson) as unknown[] | undefined) ?? null,
      cursor: record.cursor, status: 'running', inErrorPath: record.inErrorPath, error: record.error, simulate: false, createdAt: record.createdAt,
      unsaved: [], savedAt: this.clock.now().getTime(), recovering: record.status === 'running',
    };
  }

  /** After an execution ends here, look for queued work soon (debounced). */
  private scheduleSweep(): void {
    if (this.sweepSoon) return;
    this.sweepSoon = setTimeout(() => {
      this.sweepSoon = null;
      void this.sweep().catch((error: Error) => this.logger.error('engine sweep failed', { error: error.message }));
    }, 20);
    this.sweepSoon.unref();
  }

  /**
   * Finds work no process is doing, through the due index: expired leases, due waits, queued
   * runs, executions past their deadline and events nobody dispatched. Every candidate is
   * re-checked by `_id` in MongoDB, which stays the record.
   */
  async sweep(): Promise<void> {
    // One sweep at a time per process; stop() waits for the one in progress.
    this.sweeping ??= this.sweepOnce().finally(() => { this.sweeping = null; });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    if (!this.accepting || !this.due) return;
    const now = this.clock.now();
    for (const id of await this.dueIndex.pastDeadline(now, 100)) {
      if (!this.inFlight.has(id)) await this.failForTimeout(id);
    }
    const free = this.config.engine.maxConcurrent - this.inFlight.size;
    if (free > 0) {
      for (const id of await this.dueIndex.dueExecutions(now, free + this.inFlight.size)) {
        if (this.inFlight.has(id) || this.inFlight.size >= this.config.engine.maxConcurrent) continue;
        if (!(await this.resume(id))) await this.refile(id);
      }
    }
    for (const id of await this.dueIndex.undispatchedEvents(new Date(Date.now() - this.config.engine.dispatchGraceMs), 100)) {
      // A record marked dispatched is dispatched again too: it was stored so before its executions (see submit).
      const record = await this.events.findById(id).lean();
      if (!record) await this.dueIndex.eventDispatched(id);
      else await this.dispatch(record);
    }
  }

  /** Puts an execution that could not be claimed back in the index at the time it will be due. */
  private async refile(id: string): Promise<void> {
    if (this.inFlight.has(id)) return;
    const record = await this.executions.findById(id, { status: 1, lease: 1, wakeAt: 1, deadlineAt: 1 }).lean();
    if (!record || FINISHED.includes(record.status)) await this.dueIndex.executionDone(id);
    else {
      const at = this.dueTime(record);
      // Still claimable now but not claimed (another process holds the claim lock): look again shortly.
      await this.dueIndex.executionDue(id, at.getTime() <= this.clock.now().getTime() ? new Date(this.clock.now().getTime() + 1_000) : at);
    }
  }

  private async failForTimeout(executionId: string): Promise<void> {
    const now = this.clock.now();
    const stop: Partial<ExecutionRecord> = { status: 'failed', lease: null, cursor: null, finishedAt: now, updatedAt: now, error: { code: 'EXECUTION_TIMEOUT', message: 'The execution ran past its timeout; the step in flight was abandoned' } };
    await this.markStopped(executionId, stop);
    const failed = await this.executions.findOneAndUpdate(
      { _id: executionId, status: { $in: ['running', 'waiting', 'queued'] } }, { $set: stop }, { returnDocument: 'after', lean: true },
    );
    await this.dueIndex.executionDone(executionId);
    if (!failed) {
      await this.clearStopMark(executionId);
      return;
    }
    // The process running it, if another one, stops too.
    await this.redis.client.publish(this.cancelChannel, executionId).catch(() => 0);
    this.inFlight.get(executionId)?.controller.abort(new Error('timeout'));
    this.logger.warn('execution timed out', { executionId, workflowId: failed.workflowId });
    this.counters.executions.inc({ workflow: failed.workflowId, status: 'failed' });
    this.realtime.publish('executions', 'execution.finished', { executionId, workflowId: failed.workflowId, status: 'failed', durationMs: now.getTime() - failed.createdAt.getTime(), error: failed.error });
    this.coreEvents.emit('execution.finished', { executionId, workflowId: failed.workflowId, workflowVersion: failed.workflowVersion, status: 'failed', durationMs: now.getTime() - failed.createdAt.getTime(), error: failed.error ?? null });
  }

  // -------------------------------------------------------------------------------------------
  // Operator actions

  /** Stops an execution; a step in flight is abandoned, not repeated. */
  async cancel(executionId: string): Promise<ExecutionRecord> {
    const now = this.clock.now();
    const stop: Partial<ExecutionRecord> = { status: 'cancelled', lease: null, cursor: null, finishedAt: now, updatedAt: now };
    await this.markStopped(executionId, stop);
    const cancelled = await this.executions.findOneAndUpdate(
      { _id: executionId, status: { $in: ['queued', 'running', 'waiting'] } }, { $set: stop }, { returnDocument: 'after', lean: true },
    );
    if (!cancelled) {
      await this.clearStopMark(executionId);
      const existing = await this.executions.findById(executionId).lean();
      if (!existing) throw new HttpError(404, 'NOT_FOUND', `Execution ${executionId} was not found`);
      throw new HttpError(409, 'EXECUTION_FINISHED', `Execution ${executionId} is already ${existing.status}`);
    }
    await this.dueIndex.executionDone(executionId);
    await this.redis.client.publish(this.cancelChannel, executionId);
    await this.scheduler.cancel(RESUME_JOB, `resume:${executionId}`).catch(() => 0);
    this.realtime.publish('executions', 'execution.finished', { executionId, workflowId: cancelled.workflowId, status: 'cancelled', durationMs: now.getTime() - cancelled.createdAt.getTime(), error: null });
    this.coreEvents.emit('execution.finished', { executionId, workflowId: cancelled.workflowId, workflowVersion: cancelled.workflowVersion, status: 'cancelled', durationMs: now.getTime() - cancelled.createdAt.getTime(), error: null });
    return cancelled;
  }

  /** Runs a failed execution again from the step that failed, with the same idempotency keys. */
  async retry(executionId: string): Promise<void> {
    const existing = await this.executions.findById(executionId).lean();
    if (!existing) throw new HttpError(404, 'NOT_FOUND', `Execution ${executionId} was not found`);
    const failedStep = existing.error?.stepId;
    if (existing.status !== 'failed' || !failedStep) throw new HttpError(409, 'EXECUTION_NOT_RETRYABLE', `Only a failed execution with a failed step can be retried (this one is ${existing.status})`);
    const steps = JSON.parse(existing.stepsJson) as Record<string, unknown>;
    delete steps[failedStep];
    // Units of the step that finished before it failed are not run again: a forEach resumes at
    // the failed item, a parallel step runs only its unfinished branches (see StepDriver).
    const workflow = await this.registry.compiledVersion(existing.workflowId, existing.workflowVersion);
    const partial = parse(existing.partialJson) as unknown[] | undefined;
    const index = workflow.byId.get(failedStep)?.forEach && Array.isArray(partial) ? partial.length : 0;
    const deadline = new Date(this.clock.now().getTime() + this.config.engine.executionTimeoutMs);
    await this.dueIndex.executionDue(executionId, this.clock.now(), deadline);
    const reset = await this.executions.updateOne(
      { _id: executionId, status: 'failed' },
      { $set: { status: 'queued', cursor: { stepId: failedStep, index, attempt: 0 }, stepsJson: JSON.stringify(steps), error: null, inErrorPath: false, finishedAt: null, lease: null, updatedAt: this.clock.now(), deadlineAt: deadline } },
    );
    if (reset.matchedCount === 0) throw new HttpError(409, 'EXECUTION_NOT_RETRYABLE', 'The execution changed meanwhile');
    await this.clearStopMark(executionId);
    await this.resume(executionId);
  }

  /** Disables a workflow at once and cancels its executions that have not started a step yet or are waiting. */
  async disable(workflowId: string): Promise<number> {
    await this.registry.setEnabled(workflowId, false);
    const pending = await this.executions.find({ workflowId, status: { $in: ['queued', 'waiting'] } }, { _id: 1 }).lean();
    let cancelled = 0;
    for (const { _id } of pending) {
      try {
        await this.cancel(_id);
        cancelled++;
      } catch {
        // finished meanwhile
      }
    }
    return cancelled;
  }

  /** Runs a workflow against a sample event with effects simulated and nothing written. */
  async dryRun(definition: WorkflowDefinition, payload: unknown): Promise<DryRunResult> {
    const result = this.compiler().compile(definition);
    if (!result.ok) throw new WorkflowInvalidError(result.issues);
    const match = this.matches(result.workflow, payload);
    if (!match.matched) return { matched: false, ...(match.reason ? { reason: match.reason } : {}), status: 'not-matched', steps: [], outputs: {}, error: null };
    const state = { ...this.driver.newState(result.workflow, 'dry-run', payload, true) };
    const trail: StepTrailRecord[] = [];
    await this.driver.drive(state, {
      save: async (_s, entries) => { trail.push(...entries); return true; },
      onStep: () => undefined,
      onWaiting: async () => undefined,
      onFinished: () => undefined,
    }, new AbortController().signal);
    return {
      matched: true,
      status: state.status,
      steps: trail.map(({ inputJson, outputJson, startedAt: _s, finishedAt: _f, ...rest }) => ({ ...rest, input: parse(inputJson), output: parse(outputJson) })),
      outputs: Object.fromEntries(Object.entries(state.steps).map(([id, s]) => [id, s.output])),
      error: state.error,
    };
  }

  async execution(executionId: string): Promise<ExecutionRecord> {
    const existing = await this.executions.findById(executionId).lean();
    if (!existing) throw new HttpError(404, 'NOT_FOUND', `Execution ${executionId} was not found`);
    return existing;
  }

  get executionModel(): Model<ExecutionRecord> {
    return this.executions;
  }
}

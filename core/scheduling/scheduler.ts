/**
 * Agenda on the MongoDB backend, with Redis pub/sub notifications so a job saved on one process
 * is picked up at once by any process instead of at the next poll. Plugins define jobs through
 * the registrar and schedule them through this service.
 */
import { isDeepStrictEqual } from 'node:util';
import { MongoBackend } from '@agendajs/mongo-backend';
import { RedisNotificationChannel } from '@agendajs/redis-backend';
import { Agenda, type Job } from 'agenda';
import { inject, injectable } from 'inversify';
import type { Logger } from 'winston';
import type { FlowgateConfig } from '../config/config-schema.js';
import type { JobHandler } from '../plugin-api.js';
import { ConfigToken, LoggerToken } from '../tokens.js';
import { MongoConnection } from '../storage/mongo.js';
import { RedisConnection } from '../storage/redis.js';
import { JobOccurrences } from './occurrences.js';

export interface ScheduledJob {
  id: string;
  name: string;
  data: unknown;
  nextRunAt: Date | null;
  repeatInterval: string | null;
}

type JobData = Record<string, unknown>;

/** Options of `Scheduler.every`. */
export interface EveryOptions {
  /** IANA time zone a cron expression is read in. */
  timezone?: string;
  /** With the name, identifies the one job across processes (`data.uniqueKey`). */
  key?: string;
  /** When the first run is due, instead of one interval from now. */
  firstRunAt?: Date;
  /** Leave a saved job with the same interval, time zone and data as it is. */
  keepIfUnchanged?: boolean;
}
const DEFAULT_LOCK_LIFETIME_MS = 10 * 60_000;
/** How long `stop` waits for runs in progress to finish and save their job. */
const STOP_WAIT_MS = 5_000;

@injectable()
export class Scheduler {
  private agenda: Agenda | null = null;
  private readonly definitions: Array<{ name: string; handler: () => JobHandler; concurrency?: number; lockLifetimeMs?: number }> = [];
  private running = false;
  /** Runs started and not yet saved back (Agenda's `start` to `complete`). */
  private readonly runsInProgress = new Set<Job>();

  constructor(
    @inject(ConfigToken) private readonly config: FlowgateConfig,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  /** Registered by the plugin host before start. */
  define(name: string, handler: () => JobHandler, options: { concurrency?: number; lockLifetimeMs?: number } = {}): void {
    this.definitions.push({ name, handler, ...options });
  }

  get definedNames(): string[] {
    return this.definitions.map((d) => d.name);
  }

  async start(): Promise<void> {
    const db = this.mongo.connection.db;
    if (!db) throw new Error('MongoDB is not connected');
    const notifications = new RedisNotificationChannel({ redis: this.redis.duplicate('agenda-notify') });
    // The channel re-emits its Redis client's errors; unheard, an EventEmitter 'error' would
    // crash the process whenever Redis goes away. Agenda keeps polling MongoDB meanwhile.
    notifications.on('error', (error: Error) => this.logger.warn('scheduler notifications unavailable', { error: error.message }));
    const backend = new MongoBackend({ mongo: db, collection: 'agendaJobs' });
    const lockLifetimes = new Map(this.definitions.map((d) => [d.name, d.lockLifetimeMs ?? DEFAULT_LOCK_LIFETIME_MS]));
    const occurrences = new JobOccurrences(this.redis, (name) => lockLifetimes.get(name) ?? DEFAULT_LOCK_LIFETIME_MS);
    const agenda = new Agenda({
      // Every run is claimed in Redis too: FerretDB v1 can let two processes lock one job (occurrences.ts).
      backend: {
        name: backend.name, repository: occurrences.guard(backend.repository), logger: backend.logger, ownsConnection: backend.ownsConnection,
        connect: () => backend.connect(), disconnect: () => backend.disconnect(),
      },
      notificationChannel: notifications,
      name: `flowgate-${process.pid}`,
      processEvery: this.config.scheduler.processEveryMs,
      defaultLockLifetime: DEFAULT_LOCK_LIFETIME_MS,
    });
    for (const definition of this.definitions) {
      agenda.define(definition.name, async (job: Job<JobData>) => {
        const jobId = String(job.attrs._id);
        const log = this.logger.child({ job: definition.name, jobId });
        // Agenda saves the job's state, nextRunAt included, when the run ends.
        const runNextAt = (at: Date) => { job.attrs.nextRunAt = at; };
        await definition.handler().run(job.attrs.data, { jobId, scheduledFor: occurrences.scheduledFor(jobId), logger: log, runNextAt });
      }, {
        concurrency: definition.concurrency ?? 5,
        lockLifetime: lockLifetimes.get(definition.name),
      });
    }
    agenda.on('fail', (error: Error, job: Job) => this.logger.error('job failed', { job: job.attrs.name, error: error.message }));
    agenda.on('start', (job: Job) => this.runsInProgress.add(job));
    agenda.on('complete', (job: Job) => this.runsInProgress.delete(job));
    this.agenda = agenda;
    if (this.config.scheduler.enabled) {
      await agenda.start();
      this.running = true;
    } else {
      await agenda.ready;
    }
  }

  get ready(): boolean {
    return this.agenda !== null && (this.running || !this.config.scheduler.enabled);
  }

  private get instance(): Agenda {
    if (!this.agenda) throw new Error('The scheduler has not started');
    return this.agenda;
  }

  async now(name: string, data: JobData): Promise<string> {
    const job = await this.instance.now(name, data);
    return String(job.attrs._id);
  }

  /** Runs `name` once at `when`. With `uniqueKey`, scheduling the same key again replaces the earlier one. */
  async at(when: Date, name: string, data: JobData, uniqueKey?: string): Promise<string> {
    const job = this.instance.create(name, { ...data, ...(uniqueKey ? { uniqueKey } : {}) });
    job.schedule(when);
    if (!uniqueKey) {
      await job.save();
      return String(job.attrs._id);
    }
    job.unique({ name, 'data.uniqueKey': uniqueKey });
    return this.saveUnique(job, name, uniqueKey);
  }

  /**
   * A recurring job (cron expression or interval); one per name + key across all processes.
   * `firstRunAt` replaces the first run the interval would give. With `keepIfUnchanged`, a job
   * already saved under this name and key with the same interval, time zone and data is left as
   * it is, its next run included (a process starting does not reschedule a running timetable);
   * otherwise the saved job is replaced.
   */
  async every(interval: string, name: string, data: JobData, options: EveryOptions = {}): Promise<string> {
    const job = this.instance.create(name, { ...data, ...(options.key ? { uniqueKey: options.key } : {}) });
    job.repeatEvery(interval, { timezone: options.timezone, skipImmediate: true });
    if (options.firstRunAt) job.attrs.nextRunAt = options.firstRunAt;
    job.unique({ name, ...(options.key ? { 'data.uniqueKey': options.key } : {}) });
    if (!options.keepIfUnchanged) return this.saveUnique(job, name, options.key ?? '');
    return this.saveUnique(job, name, options.key ?? '', async () => {
      const { jobs } = await this.instance.queryJobs({ name, ...(options.key ? { data: { uniqueKey: options.key } } : {}) });
      const same = jobs.find((saved) => String(saved.repeatInterval) === interval && (saved.repeatTimezone ?? null) === (options.timezone ?? null)
        && isDeepStrictEqual(saved.data, job.attrs.data));
      if (same) return String(same._id);
      if (jobs.length) await this.cancel(name, options.key);
      return null;
    });
  }

  /**
   * Saves a job declared unique, one process at a time: Agenda's "update, or insert when none"
   * is one upsert, which FerretDB v1 does not isolate across connections, so processes starting
   * together each inserted their own copy of a schedule (and each copy fired). `existing`, run
   * under the same lock, returns the id of a saved job to keep instead.
   */
  private async saveUnique(job: Job<JobData>, name: string, key: string, existing?: () => Promise<string | null>): Promise<string> {
    const lock = await this.redis.lock(`agenda.unique:${name}:${key}`, 10_000, 30_000);
    try {
      const kept = existing ? await existing() : null;
      if (kept) return kept;
      await job.save();
    } finally {
      await lock.release();
    }
    return String(job.attrs._id);
  }

  /** Removes jobs of `name` whose data has the given `uniqueKey` (or all of `name`). */
  async cancel(name: string, uniqueKey?: string): Promise<number> {
    return this.instance.cancel(uniqueKey ? { name, data: { uniqueKey } } : { name });
  }

  async list(name: string): Promise<ScheduledJob[]> {
    const result = await this.instance.queryJobs({ name });
    return result.jobs.map((job) => ({
      id: String(job._id),
      name: job.name,
      data: job.data,
      nextRunAt: job.nextRunAt ? new Date(job.nextRunAt) : null,
      repeatInterval: job.repeatInterval ? String(job.repeatInterval) : null,
    }));
  }

  /** Stops taking jobs (maintenance); jobs already running finish. */
  async pause(): Promise<void> {
    if (this.agenda && this.running) await this.agenda.stop();
    this.running = false;
  }

  async resume(): Promise<void> {
    if (this.agenda && !this.running && this.config.scheduler.enabled) {
      await this.agenda.start();
      this.running = true;
    }
  }

  async stop(): Promise<void> {
    if (this.agenda && this.running) await this.agenda.stop();
    this.running = false;
    // Agenda's stop leaves runs in progress going: let them finish and save, which unlocks their
    // job, rather than leave the job locked for its lock lifetime once the connection closes.
    for (const deadline = Date.now() + STOP_WAIT_MS; this.runsInProgress.size > 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

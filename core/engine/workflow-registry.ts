/**
 * Where workflows come from and which are active. Files in `workflows/` are loaded at boot and
 * on change; workflows created over the API live in MongoDB. Every accepted change is a new,
 * immutable version; an invalid change is reported (log, API, socket) and the previous version
 * stays active. Processes tell each other about changes over Redis.
 */
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Model } from 'mongoose';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { HttpError } from '../errors.js';
import type { Realtime } from '../realtime/realtime.js';
import type { RedisConnection } from '../storage/redis.js';
import type { WorkflowRecord, WorkflowVersionRecord } from './models.js';
import { definitionHash, type CompiledWorkflow, type WorkflowCompiler, type WorkflowIssue } from './workflow-compiler.js';
import type { WorkflowDefinition } from './workflow-schema.js';

export class WorkflowInvalidError extends HttpError {
  constructor(readonly issues: WorkflowIssue[]) {
    super(422, 'WORKFLOW_INVALID', `The workflow is invalid: ${issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`, issues);
  }
}

export interface WorkflowSummary {
  id: string;
  version: number;
  enabled: boolean;
  source: 'file' | 'api';
  file?: string;
  name?: string;
  triggerType: string;
  updatedAt: string;
  lastError?: { at: string; issues: WorkflowIssue[] };
}

const WORKFLOW_FILE = /^(?!.*\.test\.json$)(?!(.+\.)?schema\.json$).+\.json$/;

export class WorkflowRegistry {
  private readonly active = new Map<string, CompiledWorkflow>();
  private readonly versions = new Map<string, CompiledWorkflow>();
  private watcher: FSWatcher | null = null;
  private subscriber: Redis | null = null;
  private readonly pendingFiles = new Map<string, NodeJS.Timeout>();
  /** Told when a workflow becomes active (or changes version) and when it stops being active. */
  onActiveChange: (id: string, workflow: CompiledWorkflow | undefined) => Promise<void> = async () => undefined;

  constructor(
    private readonly compiler: WorkflowCompiler,
    private readonly workflows: Model<WorkflowRecord>,
    private readonly versionModel: Model<WorkflowVersionRecord>,
    private readonly redis: RedisConnection,
    private readonly realtime: Realtime,
    private readonly logger: Logger,
    private readonly dir: string,
  ) {}

  private get channel(): string {
    return `${this.redis.keyPrefix}workflows.changed`;
  }

  async start(watchFiles: boolean): Promise<void> {
    this.subscriber = this.redis.duplicate('workflows');
    await this.subscriber.connect();
    await this.subscriber.subscribe(this.channel);
    this.subscriber.on('message', (_c: string, id: string) => void this.refresh(id).catch((error: Error) => this.logger.error('workflow refresh failed', { workflowId: id, error: error.message })));
    for (const file of this.listFiles()) await this.loadFile(file);
    for (const record of await this.workflows.find({ deleted: false }).lean()) await this.refresh(record._id);
    if (watchFiles) {
      try {
        this.watcher = watch(this.dir, (_event, name) => {
          if (!name || !WORKFLOW_FILE.test(name)) return;
          // Editors write in several steps: wait until the file settles.
          clearTimeout(this.pendingFiles.get(name));
          this.pendingFiles.set(name, setTimeout(() => { this.pendingFiles.delete(name); void this.loadFile(join(this.dir, name)); }, 150));
        });
      } catch (error) {
        this.logger.warn('cannot watch the workflows folder', { dir: this.dir, error: (error as Error).message });
      }
    }
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    for (const timer of this.pendingFiles.values()) clearTimeout(timer);
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }

  private listFiles(): string[] {
    try {
      return readdirSync(this.dir).filter((name) => WORKFLOW_FILE.test(name)).sort().map((name) => join(this.dir, name));
    } catch {
      return [];
    }
  }

  /** Loads or reloads one file. Returns the issues when the file is rejected. */
  async loadFile(file: string): Promise<WorkflowIssue[] | null> {
    const name = basename(file);
    let candidate: unknown;
    try {
      candidate = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return this.reject(name, null, [{ path: '(file)', code: 'WORKFLOW_JSON', message: (error as Error).message }]);
    }
    const id = typeof (candidate as { id?: unknown })?.id === 'string' ? (candidate as { id: string }).id : null;
    const result = this.compiler.compile(candidate);
    if (!result.ok) return this.reject(name, id, result.issues);
    await this.store(result.workflow.definition, { source: 'file', file: name, actor: `file:${name}` });
    return null;
  }

  private async reject(file: string, id: string | null, issues: WorkflowIssue[]): Promise<WorkflowIssue[]> {
    this.logger.error('workflow file rejected; the previous version stays active', { file, workflowId: id, issues });
    // A file that does not parse has no id to go by: find the workflow it defined before by its file name.
    const filter: Record<string, string> = id ? { _id: id } : { file, source: 'file' };
    await this.workflows.updateOne(filter, { $set: { lastError: { at: new Date(), issuesJson: JSON.stringify(issues) } } });
    this.realtime.publish('workflows', 'workflow.invalid', { workflowId: id, file, issues });
    return issues;
  }

  /** Validates and stores a new version (or nothing, when the definition did not change). */
  async store(definition: WorkflowDefinition, origin: { source: 'file' | 'api'; file?: string; actor: string }): Promise<CompiledWorkflow> {
    const result = this.compiler.compile(definition);
    if (!result.ok) throw new WorkflowInvalidError(result.issues);
    const hash = definitionHash(definition);
    for (let tries = 0; ; tries++) {
      const latest = await this.versionModel.findOne({ workflowId: definition.id }).sort({ version: -1 }).lean();
      const record = await this.workflows.findById(definition.id).lean();
      if (record && record.source === 'file' && origin.source === 'file' && record.file && record.file !== origin.file) {
        throw new WorkflowInvalidError([{ path: 'id', code: 'DUPLICATE_WORKFLOW_ID', message: `Workflow id ${definition.id} is already defined in ${record.file}` }]);
      }
      const enabled = definition.enabled ?? true;
      if (latest && latest.hash === hash && record && !record.deleted) {
        if (record.lastError || record.enabled !== enabled) await this.workflows.updateOne({ _id: definition.id }, { $set: { lastError: null, enabled, updatedAt: new Date() } });
        await this.announce(definition.id);
        return this.compiledVersion(definition.id, latest.version);
      }
      const version = (latest?.version ?? 0) + 1;
      try {
        await this.versionModel.create({
          _id: `${definition.id}@${version}`, workflowId: definition.id, version, hash, definitionJson: JSON.stringify(definition),
          source: origin.source, createdBy: origin.actor, createdAt: new Date(),
        });
      } catch (error) {
        // Another process stored this version number first: look again.
        if ((error as { code?: number }).code === 11000 && tries < 5) continue;
        throw error;
      }
      await this.workflows.updateOne(
        { _id: definition.id },
        { $set: { currentVersion: version, enabled, source: origin.source, ...(origin.file ? { file: origin.file } : {}), deleted: false, updatedAt: new Date(), lastError: null } },
        { upsert: true },
      );
      this.logger.info('workflow version stored', { workflowId: definition.id, version, source: origin.source });
      await this.announce(definition.id);
      return this.compiledVersion(definition.id, version);
    }
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    const updated = await this.workflows.updateOne({ _id: id, deleted: false }, { $set: { enabled, updatedAt: new Date() } });
    if (updated.matchedCount === 0) throw new HttpError(404, 'NOT_FOUND', `Workflow ${JSON.stringify(id)} was not found`);
    await this.announce(id);
  }

  async remove(id: string): Promise<void> {
    const updated = await this.workflows.updateOne({ _id: id, deleted: false }, { $set: { deleted: true, enabled: false, updatedAt: new Date() } });
    if (updated.matchedCount === 0) throw new HttpError(404, 'NOT_FOUND', `Workflow ${JSON.stringify(id)} was not found`);
    await this.announce(id);
  }

  private async announce(id: string): Promise<void> {
    await this.refresh(id);
    await this.redis.client.publish(this.channel, id);
    this.realtime.publish('workflows', 'workflow.updated', { workflowId: id, version: this.active.get(id)?.version ?? null, enabled: this.active.has(id) });
  }

  /** Re-reads one workflow's record and updates the active set. */
  async refresh(id: string): Promise<void> {
    const record = await this.workflows.findById(id).lean();
    let next: CompiledWorkflow | undefined;
    if (record && !record.deleted && record.enabled) {
      try {
        next = await this.compiledVersion(id, record.currentVersion);
      } catch (error) {
        this.logger.error('stored workflow no longer compiles (a plugin or type is missing); it is inactive', { workflowId: id, error: (error as Error).message });
      }
    }
    const previous = this.active.get(id);
    if (next) this.active.set(id, next);
    else this.active.delete(id);
    if (previous?.version !== next?.version) await this.onActiveChange(id, next);
  }

  /** The compiled form of one stored version, cached: executions pin the version they started with. */
  async compiledVersion(id: string, version: number): Promise<CompiledWorkflow> {
    const key = `${id}@${version}`;
    const cached = this.versions.get(key);
    if (cached) return cached;
    const stored = await this.versionModel.findById(key).lean();
    if (!stored) throw new HttpError(404, 'NOT_FOUND', `Workflow version ${key} was not found`);
    const result = this.compiler.compile(JSON.parse(stored.definitionJson), version);
    if (!result.ok) throw new WorkflowInvalidError(result.issues);
    this.versions.set(key, result.workflow);
    return result.workflow;
  }

  /** Enabled workflows an event of this trigger type may start: their trigger has the type or listens to it. */
  activeFor(triggerType: string): CompiledWorkflow[] {
    return [...this.active.values()].filter((w) => w.trigger.registered.id === triggerType || w.trigger.registered.contribution.listensTo === triggerType);
  }

  activeById(id: string): CompiledWorkflow | undefined {
    return this.active.get(id);
  }

  activeWorkflows(): CompiledWorkflow[] {
    return [...this.active.values()];
  }

  async summaries(): Promise<WorkflowSummary[]> {
    const records = await this.workflows.find({ deleted: false }).sort({ _id: 1 }).lean();
    return Promise.all(records.map((record) => this.summary(record)));
  }

  async summary(record: WorkflowRecord): Promise<WorkflowSummary> {
    const current = await this.compiledVersion(record._id, record.currentVersion).catch(() => null);
    return {
      id: record._id, version: record.currentVersion, enabled: record.enabled, source: record.source,
      ...(record.file ? { file: record.file } : {}),
      ...(current?.definition.name ? { name: current.definition.name } : {}),
      triggerType: current?.definition.trigger.type ?? 'unknown',
      updatedAt: record.updatedAt.toISOString(),
      ...(record.lastError ? { lastError: { at: record.lastError.at.toISOString(), issues: JSON.parse(record.lastError.issuesJson) as WorkflowIssue[] } } : {}),
    };
  }

  async record(id: string): Promise<WorkflowRecord> {
    const record = await this.workflows.findOne({ _id: id, deleted: false }).lean();
    if (!record) throw new HttpError(404, 'NOT_FOUND', `Workflow ${JSON.stringify(id)} was not found`);
    return record;
  }

  async versionList(id: string): Promise<Array<{ version: number; createdAt: string; createdBy: string; source: string; definition: unknown }>> {
    const list = await this.versionModel.find({ workflowId: id }).sort({ version: -1 }).limit(100).lean();
    return list.map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString(), createdBy: v.createdBy, source: v.source, definition: JSON.parse(v.definitionJson) as unknown }));
  }

  fileDir(): string {
    return resolve(this.dir);
  }
}

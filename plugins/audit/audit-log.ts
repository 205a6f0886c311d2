/**
 * The audit log's public service: other plugins (those that declare `dependsOn: ['audit']`)
 * record entries through `record`. Entries are appended, never updated; a scheduled job seals
 * them into digests (see sealer.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { inject, injectable, LoggerToken, MongoConnection, Realtime, type Logger, type Principal } from '../../core/index.js';
import { sha256 } from './canonical.js';
import { entryHash } from './chain.js';
import { AuditConfigToken, type AuditConfig } from './config.js';
import { AuditCheckpointModel, AuditDigestModel, type AuditCheckpoint, type AuditDigest } from './models/audit-digest.js';
import { AuditEntryModel, type AuditActor, type AuditEntry } from './models/audit-entry.js';
import { Pseudonyms, type SubjectKind } from './redaction.js';
import type { AuditEntryView } from './schemas.js';
import { AuditSequence, IN_FLIGHT_LIMIT_MS } from './sequence.js';

export type { AuditActor } from './models/audit-entry.js';

/** What a caller states about one event; the log adds the sequence number, time and id. */
export interface AuditRecord {
  actor: AuditActor;
  /** Dotted verb, e.g. `auth.login`, or `POST /api/users` for API calls. */
  action: string;
  resource: { type: string; id?: string };
  /** The customer concerned, stored only as a pseudonym. */
  subject?: { kind: SubjectKind; value: string };
  /** State before and after the change; secrets are removed and customers pseudonymized. */
  before?: unknown;
  after?: unknown;
  status?: number;
  ip?: string;
  requestId?: string;
  /** Recording twice with the same key stores one entry (workflow steps that are retried). */
  idempotencyKey?: string;
}

export interface AuditQuery {
  actorKind?: string;
  actorId?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  subject?: string;
  from?: Date;
  to?: Date;
  /** Entries with a lower sequence number than this (pages go newest first). */
  beforeSeq?: number;
  limit: number;
}

const DUPLICATE_KEY = 11000;

@injectable()
export class AuditLog {
  constructor(
    @inject(AuditEntryModel.token) private readonly entries: Model<AuditEntry>,
    @inject(AuditDigestModel.token) private readonly digests: Model<AuditDigest>,
    @inject(AuditCheckpointModel.token) private readonly checkpoints: Model<AuditCheckpoint>,
    @inject(AuditSequence) private readonly sequence: AuditSequence,
    @inject(Pseudonyms) private readonly pseudonyms: Pseudonyms,
    @inject(AuditConfigToken) private readonly config: AuditConfig,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
  ) {}

  /** The actor for whoever a request was authenticated as. */
  actorOf(principal: Principal | null): AuditActor {
    if (!principal) return { kind: 'anonymous', id: 'anonymous' };
    return { kind: principal.kind, id: principal.id, role: principal.role };
  }

  /** The pseudonym under which a customer appears in entries (to search for them). */
  pseudonym(kind: SubjectKind, value: string): string {
    return this.pseudonyms.of(kind, value);
  }

  /** `value` with secrets removed and customers pseudonymized, as entries store it. */
  scrubbed(value: unknown): unknown {
    return this.pseudonyms.scrub(value);
  }

  /**
   * Appends one entry and announces it on the `audit` topic. Resolves once the entry is stored;
   * throws when MongoDB or Redis are unavailable.
   */
  async record(record: AuditRecord): Promise<AuditEntryView> {
    // A repeated key is refused by the `_id` index (then the first entry is returned); not looking
    // first saves a read per entry, and the sequence number a repeat took stays unused, which the
    // digests allow (they list the entries that exist).
    const id = record.idempotencyKey ? `k_${sha256(record.idempotencyKey).slice(0, 40)}` : randomUUID();
    const content = this.content(id, record);
    for (let attempt = 0; attempt < 5; attempt++) {
      const started = performance.now();
      const taken = await this.sequence.next();
      if (!taken) {
        await this.resyncSequence();
        continue;
      }
      const { seq, at } = taken;
      const entry: AuditEntry = { ...content, seq, at };
      try {
        // The sealer waits for numbers in flight, but not for ever: one held too long is given up.
        if (performance.now() - started > IN_FLIGHT_LIMIT_MS / 2) {
          this.logger.warn('audit write was slow after taking its sequence number; taking a fresh one', { seq });
          continue;
        }
        await this.mongo.insertRaw(this.entries, entry as unknown as Record<string, unknown>);
      } catch (error) {
        if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
        const existing = await this.entries.findById(id).lean<AuditEntry>();
        if (existing) return toView(existing);
        await this.resyncSequence();
        continue;
      } finally {
        await this.sequence.settled(seq);
      }
      const view = toView(entry);
      this.realtime.publish('audit', 'audit.entry', view);
      return view;
    }
    throw new Error('could not allocate an audit sequence number after 5 attempts');
  }

  private content(id: string, record: AuditRecord): Omit<AuditEntry, 'seq' | 'at'> {
    const summary: AuditEntry['summary'] = {};
    if (record.before !== undefined) summary.before = this.pseudonyms.scrub(record.before);
    if (record.after !== undefined) summary.after = this.pseudonyms.scrub(record.after);
    const actor: AuditActor = { kind: record.actor.kind, id: record.actor.id };
    if (record.actor.role) actor.role = record.actor.role;
    if (record.actor.workflowId) actor.workflowId = record.actor.workflowId;
    const resource: AuditEntry['resource'] = { type: record.resource.type };
    if (record.resource.id) resource.id = record.resource.id;
    return {
      _id: id, actor, action: record.action, resource, summary,
      ...(record.subject ? { subject: this.pseudonyms.of(record.subject.kind, record.subject.value) } : {}),
      ...(record.status !== undefined ? { status: record.status } : {}),
      ...(record.ip ? { ip: record.ip } : {}),
      ...(record.requestId ? { requestId: record.requestId } : {}),
    };
  }

  /**
   * Puts the counter past every number the database knows (Redis lost its data, or a restore):
   * the highest stored entry, and the newest digest and checkpoint, whose numbers may have been
   * pruned or never written. A number at or below those would never be sealed.
   */
  async resyncSequence(): Promise<void> {
    const [last, digest, checkpoint] = await Promise.all([
      this.entries.findOne({}, { seq: 1 }).sort({ seq: -1 }).lean<{ seq: number }>(),
      this.digests.findOne({}, { lastSeq: 1 }).sort({ digestNo: -1 }).lean<{ lastSeq: number }>(),
      this.checkpoints.findById('checkpoint', { throughSeq: 1 }).lean<{ throughSeq: number }>(),
    ]);
    await this.sequence.raiseTo(Math.max(last?.seq ?? 0, digest?.lastSeq ?? 0, checkpoint?.throughSeq ?? 0));
  }

  async list(query: AuditQuery): Promise<AuditEntryView[]> {
    const filter: Record<string, unknown> = {};
    if (query.actorKind) filter['actor.kind'] = query.actorKind;
    if (query.actorId) filter['actor.id'] = query.actorId;
    if (query.action) filter.action = query.action;
    if (query.resourceType) filter['resource.type'] = query.resourceType;
    if (query.resourceId) filter['resource.id'] = query.resourceId;
    if (query.subject) filter.subject = query.subject;
    if (query.from || query.to) filter.at = { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lte: query.to } : {}) };
    if (query.beforeSeq !== undefined) filter.seq = { $lt: query.beforeSeq };
    const docs = await this.entries.find(filter).sort({ seq: -1 }).limit(query.limit).lean<AuditEntry[]>();
    return docs.map(toView);
  }

  /** One entry with its seal (digest number and content hash) once it is sealed. */
  async get(id: string): Promise<AuditEntryView | null> {
    const entry = await this.entries.findById(id).lean<AuditEntry>();
    if (!entry) return null;
    const digest = await this.digests.findOne({ lastSeq: { $gte: entry.seq }, firstSeq: { $lte: entry.seq } }, { digestNo: 1, seqs: 1 }).lean<Pick<AuditDigest, 'digestNo' | 'seqs'>>();
    const view = toView(entry);
    if (digest?.seqs.includes(entry.seq)) view.seal = { digestNo: digest.digestNo, hash: entryHash(entry as unknown as Parameters<typeof entryHash>[0]) };
    return view;
  }
}

export function toView(entry: AuditEntry): AuditEntryView {
  return {
    id: entry._id, seq: entry.seq, at: entry.at.toISOString(), actor: entry.actor as AuditEntryView['actor'], action: entry.action,
    resource: entry.resource, summary: entry.summary ?? {},
    ...(entry.subject ? { subject: entry.subject } : {}),
    ...(entry.status !== undefined ? { status: entry.status } : {}),
    ...(entry.ip ? { ip: entry.ip } : {}),
    ...(entry.requestId ? { requestId: entry.requestId } : {}),
  };
}

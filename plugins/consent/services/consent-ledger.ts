/**
 * The consent ledger: an append-only list of changes per phone (the proof of consent) and the
 * current state derived from it. A change is recorded once per idempotency key; the state follows
 * the latest change by time, so a late-arriving older change is kept in the history but never
 * overrides a newer one. Blocks live on the state: manual, or automatic after repeated opt-outs.
 */
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { CoreEvents, HttpError, inject, injectable, MongoConnection, Realtime } from '../../../core/index.js';
import { ConsentConfigToken, type ConsentConfig } from '../config.js';
import { normalizeKeyword } from '../keywords.js';
import {
  ConsentChangeModel, ConsentRecordModel, type ConsentBlock, type ConsentChange, type ConsentEvidence, type ConsentRecord, type ConsentSource, type ConsentState,
} from '../models/consent.js';

const DAY_MS = 86_400_000;
const SAME_SECOND_MS = 999;

/** A change to record. `at` is when the customer or operator acted (the message time), not when Flowgate saw it. */
export interface ConsentChangeRequest {
  phone: string;
  state: 'opted_in' | 'opted_out';
  source: ConsentSource;
  evidence: ConsentEvidence;
  idempotencyKey: string;
  at?: Date;
}

/** The state and evidence of a contact, as routes, policies and workflow steps see it. */
export interface ConsentView {
  phone: string;
  state: ConsentState;
  source?: ConsentSource;
  evidence?: ConsentEvidence;
  changedAt?: string;
  blocked: boolean;
  block?: { until: string; reason: string; kind: 'manual' | 'automatic'; by?: string };
}

export interface ChangeView {
  id: string;
  state: 'opted_in' | 'opted_out';
  source: ConsentSource;
  evidence: ConsentEvidence;
  at: string;
  recordedAt: string;
}

const isDuplicateKey = (error: unknown): boolean => (error as { code?: number }).code === 11000;

@injectable()
export class ConsentLedger {
  constructor(
    @inject(ConsentChangeModel.token) private readonly changes: Model<ConsentChange>,
    @inject(ConsentRecordModel.token) private readonly records: Model<ConsentRecord>,
    @inject(ConsentConfigToken) private readonly config: ConsentConfig,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(CoreEvents) private readonly coreEvents: CoreEvents,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
  ) {}

  /** Records a change (idempotent by key) and returns the contact's state afterwards; `recorded` is false for a repeat. */
  async record(request: ConsentChangeRequest): Promise<{ consent: ConsentView; change: ChangeView; recorded: boolean }> {
    const now = new Date();
    const change: ConsentChange = {
      _id: randomUUID(), phone: request.phone, idempotencyKey: request.idempotencyKey, state: request.state, source: request.source,
      evidence: request.evidence, at: request.at ?? now, recordedAt: now,
    };
    try {
      await this.mongo.insertNew(this.changes, change);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const existing = await this.changes.findOne({ idempotencyKey: request.idempotencyKey }).lean<ConsentChange>();
      if (!existing) throw error;
      if (existing.phone !== request.phone) throw new HttpError(409, 'CONSENT_IDEMPOTENCY_CONFLICT', 'This idempotency key was used for another phone number');
      // The first attempt may have stored the change and stopped before moving the state (the
      // database went away, the process died): the state is then older than the change.
      const current = await this.records.findById(existing.phone).lean<ConsentRecord>();
      const applied = current?.basedOn === existing._id || (current?.changedAt !== undefined && current.changedAt.getTime() >= existing.at.getTime());
      return { consent: applied ? toView(existing.phone, current) : await this.applyAndAnnounce(existing), change: toChangeView(existing), recorded: false };
    }
    return { consent: await this.applyAndAnnounce(change), change: toChangeView(change), recorded: true };
  }

  private async applyAndAnnounce(change: ConsentChange): Promise<ConsentView> {
    const consent = toView(change.phone, await this.apply(change));
    this.realtime.publish('consent', 'consent.changed', { ...consent, changeId: change._id });
    this.reportFact(change);
    return consent;
  }

  /** The opt-in or opt-out as an analytics fact (no phone: figures carry no personal data), by source and keyword. */
  private reportFact(change: ConsentChange): void {
    const keyword = change.source === 'keyword' && change.evidence?.text ? normalizeKeyword(change.evidence.text).slice(0, 40) : '';
    this.coreEvents.emit('analytics', {
      id: `consent.${change.state}:${change._id}`, type: `consent.${change.state}`, occurredAt: change.at,
      dimensions: { source: change.source, ...(keyword ? { keyword } : {}) },
    });
  }

  /**
   * Moves the contact's state to the change, unless a more recent change already set it, and
   * counts an opt-out towards the automatic block: one read and one write of the contact's
   * document, and the document afterwards. Only a change at least as recent as the one the state
   * is based on moves it; provider timestamps have one-second resolution, so within the same
   * second the later-recorded change wins. On MongoDB the write is conditional on that (atomic);
   * FerretDB v1 isolates no conditional update, so there the read decides, as it did before.
   */
  private async apply(change: ConsentChange): Promise<ConsentRecord> {
    const current = await this.records.findById(change.phone).lean<ConsentRecord>();
    const moves = !current?.changedAt || current.changedAt.getTime() <= change.at.getTime() + SAME_SECOND_MS;
    const next: ConsentRecord = {
      _id: change.phone, state: 'unknown', optOuts: [], ...current, updatedAt: change.recordedAt,
      ...(moves ? { state: change.state, source: change.source, evidence: change.evidence, changedAt: change.at, basedOn: change._id } : {}),
    };
    let blocked: ConsentBlock | null = null;
    if (change.state === 'opted_out') {
      // Repeated opt-outs within the window block the contact for `block.days` (a spam-like pattern).
      const { autoAfterOptOuts, autoWindowDays, days } = this.config.block;
      const since = change.recordedAt.getTime() - autoWindowDays * DAY_MS;
      next.optOuts = [...next.optOuts, change.at].filter((at) => at.getTime() >= since);
      if (autoAfterOptOuts > 0 && next.optOuts.length >= autoAfterOptOuts && !isActive(next.block, change.recordedAt)) {
        blocked = { until: new Date(change.recordedAt.getTime() + days * DAY_MS), reason: `${next.optOuts.length} opt-outs within ${autoWindowDays} days`, kind: 'automatic' };
        next.block = blocked;
      }
    }
    // The version key is mongoose's own: written back, it could only go stale.
    const { _id, __v: _version, ...fields } = next as ConsentRecord & { __v?: number };
    const stateFields = ['state', 'source', 'evidence', 'changedAt', 'basedOn'] as const;
    const unconditional = Object.fromEntries(Object.entries(fields).filter(([key]) => !(stateFields as readonly string[]).includes(key)));
    if (this.mongo.stockFerretDb || !moves) {
      await this.records.updateOne({ _id }, { $set: moves ? fields : unconditional }, { upsert: true });
    } else {
      const newerExists = await this.records.updateOne(
        { _id, $or: [{ changedAt: { $exists: false } }, { changedAt: { $lte: new Date(change.at.getTime() + SAME_SECOND_MS) } }] },
        { $set: fields }, { upsert: true },
      ).then(() => false, (error: unknown) => { if (isDuplicateKey(error)) return true; throw error; });
      // A newer change landed between the read and the write: keep its state, count this opt-out.
      if (newerExists) await this.records.updateOne({ _id }, { $set: unconditional });
    }
    if (blocked) this.announceBlock(change.phone, blocked);
    return next;
  }

  async get(phone: string): Promise<ConsentView> {
    const record = await this.records.findById(phone).lean<ConsentRecord>();
    return toView(phone, record);
  }

  /** A page of contacts in a state, by phone. */
  async list(state: ConsentState | undefined, limit: number, cursor?: string): Promise<ConsentView[]> {
    const filter: Record<string, unknown> = {};
    if (state) filter.state = state;
    if (cursor) filter._id = { $gt: cursor };
    const records = await this.records.find(filter).sort({ _id: 1 }).limit(limit).lean<ConsentRecord[]>();
    return records.map((r) => toView(r._id, r));
  }

  /** The history, oldest first. */
  async history(phone: string, limit: number, cursor?: string): Promise<ChangeView[]> {
    const filter: Record<string, unknown> = { phone };
    const list = await this.changes.find(filter).sort({ at: 1, _id: 1 }).lean<ConsentChange[]>();
    const start = cursor ? list.findIndex((c) => c._id === cursor) + 1 : 0;
    return list.slice(start, start + limit).map(toChangeView);
  }

  /** Blocks a contact (manual block, or automatic from repeated opt-outs); `days` defaults to the configured length. */
  async block(phone: string, request: { reason: string; by: string; days?: number }): Promise<ConsentView> {
    const until = new Date(Date.now() + (request.days ?? this.config.block.days) * DAY_MS);
    await this.setBlock(phone, { until, reason: request.reason, kind: 'manual', by: request.by });
    return this.get(phone);
  }

  private async setBlock(phone: string, block: ConsentBlock): Promise<void> {
    await this.records.updateOne({ _id: phone }, { $set: { block, updatedAt: new Date() }, $setOnInsert: { state: 'unknown', optOuts: [] } }, { upsert: true });
    this.announceBlock(phone, block);
  }

  private announceBlock(phone: string, block: ConsentBlock): void {
    this.realtime.publish('consent', 'consent.blocked', { phone, until: block.until.toISOString(), reason: block.reason, kind: block.kind });
  }

  /** Removes every consent document of the phone (erasure); returns the counts removed. */
  async erase(phone: string): Promise<Record<string, number>> {
    const [changes, records] = await Promise.all([this.changes.deleteMany({ phone }), this.records.deleteMany({ _id: phone })]);
    return { ConsentChange: changes.deletedCount, ConsentRecord: records.deletedCount };
  }
}

function isActive(block: ConsentBlock | undefined, at: Date): block is ConsentBlock {
  return block !== undefined && block.until !== undefined && block.until > at;
}

function toView(phone: string, record: ConsentRecord | null): ConsentView {
  if (!record) return { phone, state: 'unknown', blocked: false };
  const active = isActive(record.block, new Date());
  return {
    phone, state: record.state, blocked: active,
    ...(record.source ? { source: record.source } : {}),
    ...(record.evidence ? { evidence: record.evidence } : {}),
    ...(record.changedAt ? { changedAt: record.changedAt.toISOString() } : {}),
    ...(record.block && active ? { block: { until: record.block.until.toISOString(), reason: record.block.reason, kind: record.block.kind, ...(record.block.by ? { by: record.block.by } : {}) } } : {}),
  };
}

function toChangeView(change: ConsentChange): ChangeView {
  return { id: change._id, state: change.state, source: change.source, evidence: change.evidence ?? {}, at: change.at.toISOString(), recordedAt: change.recordedAt.toISOString() };
}

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
      await this.changes.create(change);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const existing = await this.changes.findOne({ idempotencyKey: request.idempotencyKey }).lean<ConsentChange>();
      if (!existing) throw error;
      if (existing.phone !== request.phone) throw new HttpError(409, 'CONSENT_IDEMPOTENCY_CONFLICT', 'This idempotency key was used for another phone number');
      return { consent: await this.get(existing.phone), change: toChangeView(existing), recorded: false };
    }
    await this.apply(change);
    const consent = await this.get(change.phone);
    this.realtime.publish('consent', 'consent.changed', { ...consent, changeId: change._id });
    this.reportFact(change);
    return { consent, change: toChangeView(change), recorded: true };
  }

  /** The opt-in or opt-out as an analytics fact (no phone: figures carry no personal data), by source and keyword. */
  private reportFact(change: ConsentChange): void {
    const keyword = change.source === 'keyword' && change.evidence?.text ? normalizeKeyword(change.evidence.text).slice(0, 40) : '';
    this.coreEvents.emit('analytics', {
      id: `consent.${change.state}:${change._id}`, type: `consent.${change.state}`, occurredAt: change.at,
      dimensions: { source: change.source, ...(keyword ? { keyword } : {}) },
    });
  }

  private async apply(change: ConsentChange): Promise<void> {
    await this.records.updateOne({ _id: change.phone }, { $setOnInsert: { state: 'unknown', optOuts: [], updatedAt: change.recordedAt } }, { upsert: true }).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error; // two first changes at once: the other one created it
    });
    // Only a change at least as recent as the one the state is based on moves the state (single-document update: atomic).
    // Provider timestamps have one-second resolution, so within the same second the later-recorded change wins.
    await this.mongo.updateOneById(
      this.records, { _id: change.phone, $or: [{ changedAt: { $exists: false } }, { changedAt: { $lte: new Date(change.at.getTime() + SAME_SECOND_MS) } }] },
      { $set: { state: change.state, source: change.source, evidence: change.evidence, changedAt: change.at, basedOn: change._id, updatedAt: change.recordedAt } },
    );
    if (change.state === 'opted_out') await this.countOptOut(change);
  }

  /** Repeated opt-outs within the window block the contact for `block.days` (a spam-like pattern). */
  private async countOptOut(change: ConsentChange): Promise<void> {
    const { autoAfterOptOuts, autoWindowDays, days } = this.config.block;
    const since = new Date(change.recordedAt.getTime() - autoWindowDays * DAY_MS);
    await this.records.updateOne({ _id: change.phone }, { $push: { optOuts: change.at } });
    const record = await this.records.findById(change.phone).lean<ConsentRecord>();
    if (!record || autoAfterOptOuts === 0) return;
    const recent = record.optOuts.filter((at) => at >= since);
    await this.records.updateOne({ _id: change.phone }, { $set: { optOuts: recent } });
    if (recent.length >= autoAfterOptOuts && !isActive(record.block, change.recordedAt)) {
      await this.setBlock(change.phone, { until: new Date(change.recordedAt.getTime() + days * DAY_MS), reason: `${recent.length} opt-outs within ${autoWindowDays} days`, kind: 'automatic' });
    }
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

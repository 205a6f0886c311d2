/**
 * The sales ledger: records, amends and voids sales, and tells whoever keeps figures through the
 * core `analytics` event. Every event id is derived from the sale and its revision, so a sale
 * reported twice (a resumed execution, a retried request) is counted once, and an amendment is
 * "void revision n, record revision n+1": analytics sums of recorded minus voided stay right, in
 * every period.
 */
import { randomUUID } from 'node:crypto';
import { Types, type Model } from 'mongoose';
import { inject, injectable, CoreEvents, EngineClock, HttpError, notFound } from '../../../core/index.js';
import { formatMinor, minorUnits, requireCurrency } from '../currencies.js';
import { LeadModel, type Lead } from '../models/lead.js';
import { SaleModel, type Sale, type SaleAttribution } from '../models/sale.js';
import type { SaleView } from '../schemas.js';

const DUPLICATE_KEY = 11000;

/** E.164 digits of a phone written with `+`, spaces, dashes or brackets. Throws 422 SALES_PHONE_INVALID. */
export function phoneDigits(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) throw new HttpError(422, 'SALES_PHONE_INVALID', 'An E.164 phone number has 7 to 15 digits with its country code');
  return digits;
}

/** What narrows a list, a report or an export. Every field is optional. */
export interface SaleFilter {
  from?: Date;
  to?: Date;
  agentId?: string;
  campaignId?: string;
  templateName?: string;
  workflowId?: string;
  currency?: string;
  contactPhone?: string;
  status?: Sale['status'];
}

export interface SaleInput {
  contactPhone: string;
  amount: number;
  currency: string;
  minorUnits?: number;
  agentId: string;
  attribution?: SaleAttribution;
  notes?: string;
  soldAt?: Date;
  idempotencyKey?: string;
}

export type SaleChanges = Partial<Omit<SaleInput, 'idempotencyKey'>>;

export function toSaleView(sale: Sale): SaleView {
  const digits = minorUnits(sale.currency) ?? 0;
  return {
    id: String(sale._id),
    contactPhone: sale.contactPhone,
    amount: sale.amount,
    currency: sale.currency,
    minorUnits: digits,
    amountDecimal: formatMinor(sale.amount, digits),
    agentId: sale.agentId,
    attribution: { ...sale.attribution },
    status: sale.status,
    ...(sale.notes !== undefined ? { notes: sale.notes } : {}),
    soldAt: sale.soldAt.toISOString(),
    recordedBy: sale.recordedBy,
    revision: sale.revision,
    createdAt: sale.createdAt.toISOString(),
    updatedAt: sale.updatedAt.toISOString(),
    ...(sale.voidedAt ? { voidedAt: sale.voidedAt.toISOString() } : {}),
    ...(sale.voidedBy ? { voidedBy: sale.voidedBy } : {}),
    ...(sale.voidReason ? { voidReason: sale.voidReason } : {}),
  };
}

/** The MongoDB filter for `filter`; only equality and ranges, which FerretDB v1 serves. */
export function saleQuery(filter: SaleFilter): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  if (filter.from || filter.to) query.soldAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  if (filter.agentId) query.agentId = filter.agentId;
  if (filter.campaignId) query['attribution.campaignId'] = filter.campaignId;
  if (filter.templateName) query['attribution.templateName'] = filter.templateName;
  if (filter.workflowId) query['attribution.workflowId'] = filter.workflowId;
  if (filter.currency) query.currency = filter.currency;
  if (filter.contactPhone) query.contactPhone = phoneDigits(filter.contactPhone);
  if (filter.status) query.status = filter.status;
  return query;
}

const sameAttribution = (a: SaleAttribution, b: SaleAttribution) =>
  a.campaignId === b.campaignId && a.templateName === b.templateName && a.workflowId === b.workflowId && a.executionId === b.executionId;

@injectable()
export class SalesLedger {
  constructor(
    @inject(SaleModel.token) private readonly sales: Model<Sale>,
    @inject(LeadModel.token) private readonly leads: Model<Lead>,
    @inject(CoreEvents) private readonly events: CoreEvents,
    @inject(EngineClock) private readonly clock: EngineClock,
  ) {}

  /**
   * Records a sale once per idempotency key: a repeat returns the first sale with `created:
   * false`, whatever it carries, and reports its current revision again. Throws 422 for an
   * unknown currency or a wrong minor-unit claim.
   */
  async record(input: SaleInput, recordedBy: string): Promise<{ sale: Sale; created: boolean }> {
    requireCurrency(input.currency, input.minorUnits);
    const now = this.clock.now();
    const sale: Sale = {
      _id: new Types.ObjectId(),
      contactPhone: phoneDigits(input.contactPhone),
      amount: input.amount,
      currency: input.currency,
      agentId: input.agentId,
      attribution: { ...(input.attribution ?? {}) },
      status: 'recorded',
      ...(input.notes !== undefined ? { notes: input.notes } : {}),
      soldAt: input.soldAt ?? now,
      recordedBy,
      idempotencyKey: input.idempotencyKey ?? `api:${randomUUID()}`,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      // Insert first: the unique index decides, instead of a lookup that FerretDB would scan for.
      await this.sales.collection.insertOne(sale);
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      const first = await this.sales.findOne({ idempotencyKey: sale.idempotencyKey }).lean<Sale>();
      if (!first) throw error;
      // The call that stored it may have died before its facts reached the analytics queue;
      // their ids are derived, so facts already counted are not counted again.
      this.announce('sale.recorded', first);
      if (first.status === 'voided') this.announce('sale.voided', first);
      return { sale: first, created: false };
    }
    await this.markLeadWon(sale);
    this.announce('sale.recorded', sale);
    return { sale, created: true };
  }

  /** One sale, or 404 when it does not exist or lies outside `ownAgent`'s own sales. */
  async get(id: string, ownAgent: string | null): Promise<Sale> {
    const sale = Types.ObjectId.isValid(id) && id.length === 24 ? await this.sales.findById(id).lean<Sale>() : null;
    // Another agent's sale answers 404, not 403: its existence is not the caller's business.
    if (!sale || (ownAgent !== null && sale.agentId !== ownAgent)) throw notFound('Sale', id);
    return sale;
  }

  /** A page of sales, newest first; `cursor` is the last id of the previous page. */
  async list(filter: SaleFilter, limit: number, cursor?: string): Promise<{ items: Sale[]; nextCursor?: string }> {
    const query = saleQuery(filter);
    if (cursor) query._id = { $lt: new Types.ObjectId(cursor) };
    const items = await this.sales.find(query).sort({ _id: -1 }).limit(limit + 1).lean<Sale[]>();
    const page = items.slice(0, limit);
    return { items: page, ...(items.length > limit ? { nextCursor: String(page.at(-1)?._id) } : {}) };
  }

  /**
   * Streams the matching sales with a server cursor, so memory stays flat: oldest first, or in
   * whatever order the database finds them when `ordered` is false (sums do not need a sort).
   */
  stream(filter: SaleFilter, options: { projection?: Record<string, 0 | 1>; ordered?: boolean } = {}): AsyncIterable<Sale> {
    const cursor = this.sales.collection.find(saleQuery(filter), options.projection ? { projection: options.projection } : {}).batchSize(1000);
    return (options.ordered === false ? cursor : cursor.sort({ _id: 1 })) as unknown as AsyncIterable<Sale>;
  }

  /**
   * Amends a recorded sale. A change of figures (amount, currency, agent, attribution, date)
   * bumps the revision and re-reports it; notes alone do not. Throws 409 SALES_SALE_VOIDED for a
   * voided sale, 409 SALES_SALE_CHANGED when someone amended it meanwhile.
   */
  async update(id: string, changes: SaleChanges, ownAgent: string | null): Promise<Sale> {
    const current = await this.get(id, ownAgent);
    if (current.status === 'voided') throw new HttpError(409, 'SALES_SALE_VOIDED', `Sale ${id} is voided: record a new sale instead`);
    const currency = changes.currency ?? current.currency;
    if (changes.currency !== undefined || changes.minorUnits !== undefined) requireCurrency(currency, changes.minorUnits);
    const next: Sale = {
      ...current,
      contactPhone: changes.contactPhone !== undefined ? phoneDigits(changes.contactPhone) : current.contactPhone,
      amount: changes.amount ?? current.amount,
      currency,
      agentId: changes.agentId ?? current.agentId,
      attribution: changes.attribution !== undefined ? { ...changes.attribution } : current.attribution,
      ...(changes.notes !== undefined ? { notes: changes.notes } : {}),
      soldAt: changes.soldAt ?? current.soldAt,
      updatedAt: this.clock.now(),
    };
    const figuresChanged = next.amount !== current.amount || next.currency !== current.currency || next.agentId !== current.agentId
      || next.soldAt.getTime() !== current.soldAt.getTime() || !sameAttribution(next.attribution, current.attribution);
    if (figuresChanged) next.revision = current.revision + 1;
    const { _id, ...fields } = next;
    const result = await this.sales.updateOne({ _id, status: 'recorded', revision: current.revision }, { $set: fields });
    if (result.matchedCount === 0) throw new HttpError(409, 'SALES_SALE_CHANGED', `Sale ${id} was changed or voided meanwhile: read it again`);
    if (figuresChanged) {
      this.announce('sale.voided', current);
      this.announce('sale.recorded', next);
    }
    return next;
  }

  /** Voids a sale, keeping it. Voiding a voided sale changes nothing and reports nothing. */
  async void(id: string, voidedBy: string, reason: string | undefined): Promise<Sale> {
    const current = await this.get(id, null);
    if (current.status === 'voided') return current;
    const at = this.clock.now();
    const set = { status: 'voided' as const, voidedAt: at, voidedBy, updatedAt: at, ...(reason ? { voidReason: reason } : {}) };
    const result = await this.sales.updateOne({ _id: current._id, status: 'recorded', revision: current.revision }, { $set: set });
    if (result.matchedCount === 0) return this.get(id, null);
    const voided = { ...current, ...set };
    this.announce('sale.voided', voided);
    return voided;
  }

  /** A sale makes its contact a lead won, owned by the selling agent unless someone owned it already. */
  private async markLeadWon(sale: Sale): Promise<void> {
    await this.leads.updateOne(
      { _id: sale.contactPhone },
      { $set: { status: 'won', updatedAt: sale.createdAt }, $setOnInsert: { ownerAgentId: sale.agentId, createdAt: sale.createdAt } },
      { upsert: true },
    );
  }

  /**
   * Both facts of a revision are dated when it was sold: a void (or the amendment replacing it)
   * takes the revision out of the period that counted it, as the sales reports leave it out, and
   * not out of the day it happened, where the sold day would keep it and this day go negative.
   */
  private announce(type: 'sale.recorded' | 'sale.voided', sale: Sale): void {
    const { campaignId, templateName, workflowId } = sale.attribution;
    this.events.emit('analytics', {
      id: `${type}:${String(sale._id)}:${sale.revision}`,
      type,
      occurredAt: sale.soldAt,
      value: sale.amount,
      dimensions: {
        agentId: sale.agentId,
        currency: sale.currency,
        ...(campaignId ? { campaignId } : {}),
        ...(templateName ? { templateName } : {}),
        ...(workflowId ? { workflowId } : {}),
      },
    });
  }
}

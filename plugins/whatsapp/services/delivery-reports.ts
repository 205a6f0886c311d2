/**
 * Delivery reporting over stored outbound messages: counts by status (a `$group` with `$sum`,
 * within what FerretDB supports), failures with their retry decision, and sent→delivered→read
 * latencies computed in memory from the stored timestamps (no percentile aggregation stages).
 */
import type { Model } from 'mongoose';
import { inject, injectable, Scheduler } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import { MessageModel, type Message } from '../models/message.js';
import { Messenger } from './messenger.js';
import { SEND_STORED_JOB } from './outbox.js';

export interface DeliveryFilter {
  from?: string;
  to?: string;
  phoneNumberId?: string;
  template?: string;
}

const DELIVERED_OR_BETTER = ['delivered', 'read', 'played'];
/** Upper bound of messages read for latency percentiles; the figures say how many were used. */
const LATENCY_SAMPLE = 50_000;

@injectable()
export class DeliveryReports {
  constructor(
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(Messenger) private readonly messenger: Messenger,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
  ) {}

  private match(filter: DeliveryFilter): Record<string, unknown> {
    const createdAt: Record<string, Date> = {};
    if (filter.from) createdAt.$gte = new Date(filter.from);
    if (filter.to) createdAt.$lt = new Date(filter.to);
    return {
      direction: 'outbound',
      ...(Object.keys(createdAt).length ? { createdAt } : {}),
      ...(filter.phoneNumberId ? { phoneNumberId: filter.phoneNumberId } : {}),
      ...(filter.template ? { 'template.name': filter.template } : {}),
    };
  }

  async report(filter: DeliveryFilter, groupBy: 'none' | 'sender' | 'template'): Promise<{ total: number; counts: Record<string, number>; rates: { delivered: number; read: number; failed: number }; groups: Array<{ key: string; total: number; counts: Record<string, number> }> }> {
    const key = groupBy === 'sender' ? '$phoneNumberId' : groupBy === 'template' ? '$template.name' : null;
    const rows = await this.messages.aggregate<{ _id: { status: string; key: string | null }; n: number }>([
      { $match: this.match(filter) },
      { $group: { _id: { status: '$status', key }, n: { $sum: 1 } } },
    ]);
    const counts: Record<string, number> = {};
    const groups = new Map<string, { key: string; total: number; counts: Record<string, number> }>();
    for (const row of rows) {
      counts[row._id.status] = (counts[row._id.status] ?? 0) + row.n;
      if (key) {
        const name = row._id.key ?? '(none)';
        const group = groups.get(name) ?? { key: name, total: 0, counts: {} };
        group.total += row.n;
        group.counts[row._id.status] = (group.counts[row._id.status] ?? 0) + row.n;
        groups.set(name, group);
      }
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const sum = (statuses: string[]) => statuses.reduce((a, s) => a + (counts[s] ?? 0), 0);
    const rate = (n: number) => (total ? Math.round((n / total) * 10_000) / 10_000 : 0);
    return {
      total, counts,
      rates: { delivered: rate(sum(DELIVERED_OR_BETTER)), read: rate(sum(['read', 'played'])), failed: rate(sum(['failed'])) },
      groups: [...groups.values()].sort((a, b) => b.total - a.total),
    };
  }

  async failed(filter: DeliveryFilter & { retryable?: boolean; code?: number }, limit: number, cursor?: string): Promise<Message[]> {
    return this.messages.find({
      ...this.match(filter), status: 'failed',
      ...(filter.retryable !== undefined ? { 'error.retryable': filter.retryable } : {}),
      ...(filter.code !== undefined ? { 'error.code': filter.code } : {}),
      ...(cursor ? { _id: { $lt: cursor } } : {}),
    }).sort({ _id: -1 }).limit(limit).lean<Message[]>();
  }

  /**
   * Schedules another attempt for each retryable failure of the filter, after an exponential
   * backoff on the message's attempts, capped at `retry.maxDelayMs`; messages that used up
   * `retry.maxAttempts` or failed for good are skipped and counted.
   */
  async retryFailed(filter: DeliveryFilter, limit: number): Promise<{ scheduled: Array<{ id: string; retryAt: string }>; skipped: { notRetryable: number; attemptsExhausted: number } }> {
    const candidates = await this.messages.find({ ...this.match(filter), status: 'failed' }).sort({ _id: 1 }).limit(limit).lean<Message[]>();
    const scheduled: Array<{ id: string; retryAt: string }> = [];
    const skipped = { notRetryable: 0, attemptsExhausted: 0 };
    const { baseDelayMs, maxDelayMs, maxAttempts } = this.config.retry;
    for (const message of candidates) {
      if (!message.error?.retryable) { skipped.notRetryable++; continue; }
      if (message.attempts >= maxAttempts) { skipped.attemptsExhausted++; continue; }
      const retryAt = new Date(Date.now() + Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, message.attempts - 1)));
      const requeued = await this.messenger.requeue(message._id, retryAt);
      if (!requeued) continue;
      await this.scheduler.at(retryAt, SEND_STORED_JOB, { messageId: String(message._id) }, String(message._id));
      scheduled.push({ id: String(message._id), retryAt: retryAt.toISOString() });
    }
    return { scheduled, skipped };
  }

  /** Percentiles of sent→delivered, delivered→read and sent→read, and the most common failure reasons. */
  async stats(filter: DeliveryFilter): Promise<{
    latencyMs: Record<'sentToDelivered' | 'deliveredToRead' | 'sentToRead', { count: number; p50: number | null; p95: number | null }>;
    failureReasons: Array<{ code: number; reason: string; count: number }>;
  }> {
    const docs = await this.messages.find({ ...this.match(filter), sentAt: { $exists: true } }, { sentAt: 1, deliveredAt: 1, readAt: 1 })
      .sort({ _id: -1 }).limit(LATENCY_SAMPLE).lean<Array<Pick<Message, 'sentAt' | 'deliveredAt' | 'readAt'>>>();
    const between = (a?: Date, b?: Date) => (a && b ? new Date(b).getTime() - new Date(a).getTime() : null);
    const series = { sentToDelivered: [] as number[], deliveredToRead: [] as number[], sentToRead: [] as number[] };
    for (const doc of docs) {
      const pairs: Array<[keyof typeof series, number | null]> = [
        ['sentToDelivered', between(doc.sentAt, doc.deliveredAt)], ['deliveredToRead', between(doc.deliveredAt, doc.readAt)], ['sentToRead', between(doc.sentAt, doc.readAt)],
      ];
      for (const [name, value] of pairs) if (value !== null && value >= 0) series[name].push(value);
    }
    const summarize = (values: number[]) => {
      values.sort((a, b) => a - b);
      return { count: values.length, p50: percentile(values, 0.5), p95: percentile(values, 0.95) };
    };
    const reasons = await this.messages.aggregate<{ _id: { code: number; reason: string }; n: number }>([
      { $match: { ...this.match(filter), status: 'failed' } },
      { $group: { _id: { code: '$error.code', reason: '$error.reason' }, n: { $sum: 1 } } },
    ]);
    return {
      latencyMs: { sentToDelivered: summarize(series.sentToDelivered), deliveredToRead: summarize(series.deliveredToRead), sentToRead: summarize(series.sentToRead) },
      failureReasons: reasons.map((r) => ({ code: r._id.code ?? 0, reason: r._id.reason ?? 'unknown', count: r.n })).sort((a, b) => b.count - a.count),
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

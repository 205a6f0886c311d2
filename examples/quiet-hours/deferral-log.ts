import { createHash } from 'node:crypto';
import { HttpError, inject, injectable, Realtime, WorkflowEventsToken, type Model, type WorkflowEvents } from 'flowgate/sdk';
import { DeferralModel, toDeferralView, type Deferral } from './models/deferral.js';
import type { DeferralView } from './schemas.js';

export const QUIET_HOURS_TOPIC = 'quiet-hours';
export const DEFERRED_TRIGGER = 'quiet-hours.deferred@1';

/** Records deferrals once, announces them on the socket and hands them to workflows. */
@injectable()
export class DeferralLog {
  constructor(
    @inject(DeferralModel.token) private readonly deferrals: Model<Deferral>,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(WorkflowEventsToken) private readonly events: WorkflowEvents,
  ) {}

  /** Stores the deferral unless this step was already deferred to the same time; announces only new ones. */
  async record(entry: Omit<Deferral, '_id' | 'createdAt'>, idempotencyKey: string): Promise<DeferralView> {
    const _id = createHash('sha256').update(`${idempotencyKey}|${entry.until.toISOString()}`).digest('hex').slice(0, 24);
    const result = await this.deferrals.findOneAndUpdate(
      { _id },
      { $setOnInsert: { ...entry, _id, createdAt: new Date() } },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true, lean: true },
    );
    const view = toDeferralView(result.value as Deferral);
    if (!result.lastErrorObject?.updatedExisting) {
      this.realtime.publish(QUIET_HOURS_TOPIC, 'quiet-hours.deferred', view);
      // The deferral id is the source id: a second evaluation of the same night starts nothing new.
      await this.events.submit({ type: DEFERRED_TRIGGER, sourceId: view.id, payload: view });
    }
    return view;
  }

  /** Newest first; the cursor is the last item's creation time and id. */
  async list(limit: number, cursor?: string): Promise<{ items: DeferralView[]; nextCursor?: string }> {
    let filter = {};
    if (cursor) {
      const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
      const createdAt = new Date(Number(at));
      if (!id || Number.isNaN(createdAt.getTime())) throw new HttpError(400, 'QUIET_HOURS_CURSOR_INVALID', 'cursor is not one this API returned');
      filter = { $or: [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }] };
    }
    const docs = await this.deferrals.find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit).lean<Deferral[]>();
    const last = docs.at(-1);
    return {
      items: docs.map(toDeferralView),
      ...(docs.length === limit && last ? { nextCursor: Buffer.from(`${last.createdAt.getTime()}|${last._id}`).toString('base64url') } : {}),
    };
  }

  /** Deletes deferrals whose step resumed more than `days` ago; returns how many. */
  async prune(days: number): Promise<number> {
    const { deletedCount } = await this.deferrals.deleteMany({ until: { $lt: new Date(Date.now() - days * 86_400_000) } });
    return deletedCount;
  }
}

/**
 * Updates of single documents by `_id`, sent together: the counterpart of InsertBatcher for
 * updates. While an update of a collection is on its way, the next ones wait and then go as one
 * ordered `bulkWrite` (one `update` command holding several statements), so work running at
 * the same time shares a round trip; on FerretDB a batch of ten costs about what five single
 * updates do. Ordered, so two updates of one document apply in the order they were asked for,
 * as they would one after the other. The first update of an idle collection goes at once.
 * Each caller learns whether its document was there (matched or upserted).
 */
import type { AnyBulkWriteOperation, Model, UpdateQuery } from 'mongoose';

/** Statements per command at most; a longer queue goes in several. */
const MAX_BATCH = 200;

interface Waiting {
  id: unknown;
  update: UpdateQuery<unknown>;
  upsert: boolean;
  resolve: (matched: boolean) => void;
  reject: (error: unknown) => void;
}

interface WriteError { index: number; code?: number; errmsg?: string }

export class UpdateBatcher {
  private readonly queues = new Map<Model<unknown>, Waiting[]>();
  private readonly sending = new Set<Model<unknown>>();

  update<T>(model: Model<T>, id: unknown, update: UpdateQuery<T>, upsert = false): Promise<boolean> {
    const key = model as unknown as Model<unknown>;
    return new Promise<boolean>((resolve, reject) => {
      const queue = this.queues.get(key) ?? [];
      queue.push({ id, update: update as UpdateQuery<unknown>, upsert, resolve, reject });
      this.queues.set(key, queue);
      if (!this.sending.has(key)) void this.send(key);
    });
  }

  private async send(model: Model<unknown>): Promise<void> {
    const queue = this.queues.get(model) ?? [];
    const batch = queue.splice(0, MAX_BATCH);
    if (queue.length === 0) this.queues.delete(model);
    if (batch.length === 0) return;
    this.sending.add(model);
    try {
      await this.write(model, batch);
    } finally {
      this.sending.delete(model);
      if (this.queues.has(model)) void this.send(model);
    }
  }

  private async write(model: Model<unknown>, batch: Waiting[]): Promise<void> {
    const operations = batch.map((w): AnyBulkWriteOperation => ({ updateOne: { filter: { _id: w.id }, update: w.update, upsert: w.upsert } }));
    try {
      const result = await model.bulkWrite(operations, { ordered: true });
      if (result.matchedCount + result.upsertedCount === batch.length) {
        for (const waiting of batch) waiting.resolve(true);
        return;
      }
      // Some document was not there (deleted meanwhile): which one, only a read can tell.
      await Promise.all(batch.map(async (waiting) => waiting.resolve(waiting.upsert || Boolean(await model.exists({ _id: waiting.id })))));
    } catch (error) {
      const raw = (error as { writeErrors?: WriteError[] | WriteError }).writeErrors;
      const first = (Array.isArray(raw) ? raw : raw ? [raw] : [])[0];
      if (!first) {
        // Refused as a whole (an update mongoose could not cast): one by one, only that one fails.
        if (batch.length === 1) (batch[0] as Waiting).reject(error);
        else for (const waiting of batch) await this.write(model, [waiting]);
        return;
      }
      // Ordered: the statements before the failed one were applied, those after it were not.
      const failed = batch[first.index] as Waiting;
      failed.reject(Object.assign(new Error(first.errmsg ?? 'update failed'), { code: first.code }));
      await Promise.all(batch.slice(0, first.index).map(async (waiting) => waiting.resolve(waiting.upsert || Boolean(await model.exists({ _id: waiting.id })))));
      const rest = batch.slice(first.index + 1);
      if (rest.length) await this.write(model, rest);
    }
  }
}

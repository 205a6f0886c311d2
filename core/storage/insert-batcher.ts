/**
 * Inserts of new documents into one collection, sent together. While an insert into a
 * collection is on its way, the next ones wait and then go as one unordered `insertMany`: work
 * running at the same time shares one command and one commit (a group commit), where on a
 * store that takes one write at a time each insert was a command and an fsync of its own. The
 * first insert into an idle collection goes at once, so a quiet server waits for nothing.
 * Each caller learns its own outcome: a duplicate key rejects only that document's promise,
 * with the driver's error code (11000), and the others are stored.
 */
import type { Collection, Document } from 'mongodb';

/** Documents per command at most; a longer queue goes in several. */
const MAX_BATCH = 500;

interface Waiting {
  doc: Document;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface WriteError { index: number; code?: number; errmsg?: string }

export class InsertBatcher {
  private readonly queues = new Map<Collection, Waiting[]>();
  private readonly sending = new Set<Collection>();

  insert(collection: Collection, doc: Document): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = this.queues.get(collection) ?? [];
      queue.push({ doc, resolve, reject });
      this.queues.set(collection, queue);
      if (!this.sending.has(collection)) void this.send(collection);
    });
  }

  private async send(collection: Collection): Promise<void> {
    const queue = this.queues.get(collection) ?? [];
    const batch = queue.splice(0, MAX_BATCH);
    if (queue.length === 0) this.queues.delete(collection);
    if (batch.length === 0) return;
    this.sending.add(collection);
    try {
      await collection.insertMany(batch.map((w) => w.doc), { ordered: false });
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      const raw = (error as { writeErrors?: WriteError[] | WriteError }).writeErrors;
      const failed = new Map((Array.isArray(raw) ? raw : raw ? [raw] : []).map((e) => [e.index, e]));
      if (failed.size === 0) for (const waiting of batch) waiting.reject(error);
      else {
        batch.forEach((waiting, index) => {
          const writeError = failed.get(index);
          if (!writeError) return waiting.resolve();
          waiting.reject(Object.assign(new Error(writeError.errmsg ?? 'insert failed'), { code: writeError.code }));
        });
      }
    } finally {
      this.sending.delete(collection);
      if (this.queues.has(collection)) void this.send(collection);
    }
  }
}

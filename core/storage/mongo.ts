/**
 * The mongoose connection: connects with retry and backoff, registers plugin models on it and
 * builds their indexes at start. Readiness follows the driver's connection state.
 */
import { inject, injectable } from 'inversify';
import type { Collection, Document } from 'mongodb';
import mongoose, { type Connection, type Model, type QueryFilter, type UpdateQuery } from 'mongoose';
import siftModule from 'sift';
import type { Logger } from 'winston';
import type { ModelDefinition } from '../plugin-api.js';
import { ConfigToken, LoggerToken } from '../tokens.js';
import type { FlowgateConfig } from '../config/config-schema.js';
import { CoreError } from '../errors.js';
import { InsertBatcher } from './insert-batcher.js';

// sift is CommonJS: under Node's ESM its default export is the module object, whose `default` is the tester.
const sift = (siftModule as unknown as { default: (query: Record<string, unknown>) => (document: unknown) => boolean }).default;

/** A filter naming one document by `_id`, with further conditions on it. */
export type IdFilter<T> = QueryFilter<T> & { _id: unknown };

@injectable()
export class MongoConnection {
  readonly connection: Connection;
  /**
   * Whether the server is a stock FerretDB v1 (its buildInfo says FerretDB, without the
   * `flowgateAtomicWrites` feature of the build `npm start`/`npm test` make). On SQLite it serves a
   * filter from an index only when the filter is `_id` alone — `{_id, status}` scans the whole
   * collection — and it does not isolate a conditional update from a concurrent one, so writes
   * take the by-`_id` forms below and Redis locks instead. The patched build does both as MongoDB
   * does (docs/architecture.md), and the server treats it as MongoDB.
   */
  stockFerretDb = false;
  private readonly definitions = new Map<string, ModelDefinition<unknown>>();
  private readonly batcher = new InsertBatcher();

  constructor(
    @inject(ConfigToken) private readonly config: FlowgateConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {
    // A connection of our own, not mongoose's global one, so several servers can live in one process (tests).
    this.connection = mongoose.createConnection();
    this.connection.set('strictQuery', true);
  }

  register<T>(definition: ModelDefinition<T>): void {
    if (this.definitions.has(definition.name)) {
      throw new CoreError('MODEL_DUPLICATE', `Model ${definition.name} is registered twice`);
    }
    this.definitions.set(definition.name, definition as ModelDefinition<unknown>);
  }

  model<T>(definition: ModelDefinition<T>): Model<T> {
    return (this.connection.models[definition.name] as Model<T> | undefined)
      ?? this.connection.model<T>(definition.name, definition.schema);
  }

  /** Every registered model with whether a backup includes it. */
  registered(): ReadonlyArray<ModelDefinition<unknown>> {
    return [...this.definitions.values()];
  }

  async connect(): Promise<void> {
    const retries = this.config.mongodb.connectRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.connection.openUri(this.config.mongodb.uri, { serverSelectionTimeoutMS: 5_000, autoIndex: false });
        break;
      } catch (error) {
        if (attempt >= retries) {
          throw new CoreError('MONGODB_UNAVAILABLE', `Cannot connect to MongoDB after ${attempt + 1} attempts: ${(error as Error).message}`);
        }
        const delay = Math.min(5_000, 200 * 2 ** attempt);
        this.logger.warn('mongodb connect failed, retrying', { attempt: attempt + 1, delayMs: delay, error: (error as Error).message });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    const buildInfo = await this.connection.db?.admin().command({ buildInfo: 1 }).catch(() => ({}));
    const info = buildInfo as { ferretdbVersion?: unknown; ferretdbFeatures?: { flowgateAtomicWrites?: unknown } } | undefined;
    this.stockFerretDb = typeof info?.ferretdbVersion === 'string' && info.ferretdbFeatures?.flowgateAtomicWrites !== true;
    for (const definition of this.definitions.values()) {
      await this.model(definition).createIndexes();
    }
  }

  /**
   * `updateOne` of the document `filter._id` names, if it matches the rest of `filter`; true
   * when it matched. On MongoDB this is the plain conditional update. On FerretDB it is a read
   * and a write both by `_id` alone, the form FerretDB serves from its index, with the rest of
   * the filter checked in between: the conditional form scans the whole collection, and
   * FerretDB v1 does not isolate a conditional update from a concurrent one anyway (see
   * docs/architecture.md), so the split loses no guarantee there that it had.
   */
  async updateOneById<T>(model: Model<T>, filter: IdFilter<T>, update: UpdateQuery<T>): Promise<boolean> {
    if (!this.stockFerretDb) return (await model.updateOne(filter, update)).matchedCount === 1;
    if (!(await this.findOneById(model, filter))) return false;
    return (await model.updateOne({ _id: filter._id } as QueryFilter<T>, update)).matchedCount === 1;
  }

  /** `findOneAndUpdate` (the document after the update, lean) with the same treatment as `updateOneById`. */
  async findOneAndUpdateById<T>(model: Model<T>, filter: IdFilter<T>, update: UpdateQuery<T>): Promise<T | null> {
    if (!this.stockFerretDb) return await model.findOneAndUpdate(filter, update, { returnDocument: 'after', lean: true }) as T | null;
    if (!(await this.findOneById(model, filter))) return null;
    return await model.findOneAndUpdate({ _id: filter._id } as QueryFilter<T>, update, { returnDocument: 'after', lean: true }) as T | null;
  }

  /** `findOne` (lean) of the document `filter._id` names if it matches the rest of `filter`; by `_id` alone on FerretDB. */
  async findOneById<T>(model: Model<T>, filter: IdFilter<T>): Promise<T | null> {
    if (!this.stockFerretDb) return await model.findOne(filter).lean<T>();
    const found = await model.findById(filter._id).lean<T>();
    return found && sift(filter as Record<string, unknown>)(found) ? found : null;
  }

  /**
   * Inserts one new document of `model` (cast and validated by mongoose, defaults applied),
   * sent together with other inserts into the same collection made meanwhile (see
   * InsertBatcher), and returns it as stored. Rejects with code 11000 for a duplicate key, as
   * `create` would.
   */
  async insertNew<T>(model: Model<T>, doc: Partial<T>): Promise<T> {
    const hydrated = new model(doc);
    await hydrated.validate();
    const stored = hydrated.toObject({ depopulate: true, versionKey: false }) as T;
    await this.batcher.insert(model.collection as unknown as Collection, stored as Document);
    return stored;
  }

  /** Inserts a document of `model` as it is (no casting or defaults), batched like `insertNew`. */
  insertRaw<T>(model: Model<T>, doc: Document): Promise<void> {
    return this.batcher.insert(model.collection as unknown as Collection, doc);
  }

  get ready(): boolean {
    return this.connection.readyState === mongoose.ConnectionStates.connected;
  }

  async ping(): Promise<boolean> {
    if (!this.ready || !this.connection.db) return false;
    try {
      await this.connection.db.admin().command({ ping: 1 });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

const OUTAGE_ERRORS = new Set([
  'MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError',
  'MongoNotConnectedError', 'MongoPoolClearedError', 'MongoTopologyClosedError',
]);
const OUTAGE_LABELS = new Set(['PoolRequestedRetry', 'ResetPool']);

/**
 * True for errors that mean the database could not be reached (rather than that it refused the
 * operation): the request may succeed later, so callers are told to retry instead of getting a 500.
 */
export function isStorageOutage(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending = [error];
  while (pending.length && seen.size < 8) {
    const current = pending.pop();
    if (!(current instanceof Error) || seen.has(current)) continue;
    const { errorLabelSet, errorResponse } = current as Error & { errorLabelSet?: unknown; errorResponse?: unknown };
    seen.add(current);
    if (OUTAGE_ERRORS.has(current.name)) return true;
    // mongoose queues operations while disconnected and fails them after bufferTimeoutMS.
    if (current.name === 'MongooseError' && /buffering timed out/.test(String(current.message))) return true;
    // The driver labels failures that cleared the connection pool (a dropped connection).
    if (errorLabelSet instanceof Set && [...OUTAGE_LABELS].some((label) => errorLabelSet.has(label))) return true;
    // A bulk write keeps the network failure that ended it as `errorResponse`.
    pending.push(current.cause, errorResponse);
  }
  return false;
}

/** Declares a model once: its schema, its injection token, and whether backups include it. */
export function defineModel<T>(name: string, schema: mongoose.Schema<T>, options: { backup?: boolean } = {}): ModelDefinition<T> {
  return { name, schema, token: Symbol.for(`flowgate.model.${name}`), backup: options.backup ?? true };
}

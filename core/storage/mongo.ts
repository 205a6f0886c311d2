/**
 * The mongoose connection: connects with retry and backoff, registers plugin models on it and
 * builds their indexes at start. Readiness follows the driver's connection state.
 */
import { inject, injectable } from 'inversify';
import mongoose, { type Connection, type Model } from 'mongoose';
import type { Logger } from 'winston';
import type { ModelDefinition } from '../plugin-api.js';
import { ConfigToken, LoggerToken } from '../tokens.js';
import type { FlowgateConfig } from '../config/config-schema.js';
import { CoreError } from '../errors.js';

@injectable()
export class MongoConnection {
  readonly connection: Connection;
  private readonly definitions = new Map<string, ModelDefinition<unknown>>();

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
    for (const definition of this.definitions.values()) {
      await this.model(definition).createIndexes();
    }
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

import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { GreetingView } from '../schemas.js';

export interface Greeting {
  name: string;
  text: string;
  /** A workflow step's idempotency key, or a fresh id for API calls: a retried step finds its earlier greeting. */
  idempotencyKey: string;
  createdAt: Date;
}

const schema = new Schema<Greeting>({
  name: { type: String, required: true },
  text: { type: String, required: true },
  idempotencyKey: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
schema.index({ idempotencyKey: 1 }, { unique: true });
schema.index({ name: 1, createdAt: -1 });

export const GreetingModel = defineModel<Greeting>('Greeting', schema);

export function toGreetingView(doc: Greeting & { _id: unknown }): GreetingView {
  return {
    id: String(doc._id), name: doc.name, text: doc.text, idempotencyKey: doc.idempotencyKey, createdAt: doc.createdAt.toISOString(),
  };
}

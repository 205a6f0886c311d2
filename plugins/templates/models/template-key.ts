import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * Lookups by something other than the template id, kept as documents keyed by `_id` (the only
 * indexed lookup on FerretDB): `name:<name>:<language>` — which also makes a name unique per
 * language — and `provider:<Meta's template id>` for status webhooks.
 */
export interface TemplateKey {
  _id: string;
  templateId: string;
}

const schema = new Schema<TemplateKey>({
  _id: { type: String, required: true },
  templateId: { type: String, required: true },
}, { versionKey: false });

export const TemplateKeyModel = defineModel<TemplateKey>('TemplateKey', schema);

export const nameKey = (name: string, language: string): string => `name:${name}:${language}`;
export const providerKey = (providerTemplateId: string): string => `provider:${providerTemplateId}`;

import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { TemplateContent } from '../schemas.js';

/**
 * One version of a template's content. `_id` is `<templateId>:<version>`: two concurrent edits
 * cannot both become version n + 1, because only one insert of that id succeeds.
 */
export interface TemplateVersion extends TemplateContent {
  _id: string;
  templateId: string;
  version: number;
  createdBy: string;
  createdAt: Date;
  /** When this version was sent to the provider for review. */
  submittedAt: Date | null;
}

const schema = new Schema<TemplateVersion>({
  _id: { type: String, required: true },
  templateId: { type: String, required: true },
  version: { type: Number, required: true },
  category: { type: String, required: true },
  parameterFormat: { type: String, required: true },
  components: { type: Schema.Types.Mixed, required: true },
  variables: { type: Schema.Types.Mixed, default: {} },
  createdBy: { type: String, required: true },
  createdAt: { type: Date, required: true },
  submittedAt: { type: Date, default: null },
}, { versionKey: false, minimize: false });

export const TemplateVersionModel = defineModel<TemplateVersion>('TemplateVersion', schema);

export const versionId = (templateId: string, version: number): string => `${templateId}:${version}`;

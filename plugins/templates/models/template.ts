import { Schema, type Types } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { Component, ParameterFormat, TemplateCategory, TemplateStatus, VariableSet } from '../schemas.js';

export type StatusSource = 'provider' | 'api' | 'submission';

/** One entry of a template's status history. */
export interface StatusChange {
  status: TemplateStatus;
  previous: TemplateStatus;
  reason: string | null;
  source: StatusSource;
  /** Principal id for the status route; absent for the provider. */
  by?: string;
  at: Date;
}

/**
 * A message template: its latest version's content (copied here so reads and the send policy
 * need one lookup), its review status at the provider and the history of that status.
 */
export interface Template {
  _id: Types.ObjectId;
  name: string;
  language: string;
  category: TemplateCategory;
  parameterFormat: ParameterFormat;
  components: Component[];
  variables: VariableSet;
  status: TemplateStatus;
  statusReason: string | null;
  /** When the status last changed, by whatever source. */
  statusChangedAt: Date | null;
  /** Time of the provider's last applied status webhook; older webhooks are ignored. */
  providerStatusAt: Date | null;
  version: number;
  /** The version the provider has, or null when never submitted. */
  submittedVersion: number | null;
  providerTemplateId: string | null;
  statusHistory: StatusChange[];
  archivedAt: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const statusChange = new Schema<StatusChange>({
  status: { type: String, required: true }, previous: { type: String, required: true }, reason: { type: String, default: null },
  source: { type: String, required: true }, by: String, at: { type: Date, required: true },
}, { _id: false });

const schema = new Schema<Template>({
  name: { type: String, required: true },
  language: { type: String, required: true },
  category: { type: String, required: true },
  parameterFormat: { type: String, required: true },
  components: { type: Schema.Types.Mixed, required: true },
  variables: { type: Schema.Types.Mixed, default: {} },
  status: { type: String, required: true, default: 'DRAFT' },
  statusReason: { type: String, default: null },
  statusChangedAt: { type: Date, default: null },
  providerStatusAt: { type: Date, default: null },
  version: { type: Number, required: true },
  submittedVersion: { type: Number, default: null },
  providerTemplateId: { type: String, default: null },
  statusHistory: { type: [statusChange], default: [] },
  archivedAt: { type: Date, default: null },
  createdBy: { type: String, required: true },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
}, { versionKey: false, minimize: false });

export const TemplateModel = defineModel<Template>('Template', schema);

import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import { LEAD_STATUSES } from '../schemas.js';

/**
 * A contact as a sales lead, keyed by E.164 digits: the same key as WhatsApp's contact
 * (`wa:<digits>`) and the consent ledger, so they join without this plugin depending on them.
 */
export interface Lead {
  _id: string;
  name?: string;
  /** Absent means none: FerretDB v1 drops an empty array set by `$setOnInsert`. */
  tags?: string[];
  ownerAgentId?: string;
  status: (typeof LEAD_STATUSES)[number];
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<Lead>({
  _id: { type: String, required: true },
  name: String,
  tags: { type: [String], default: undefined },
  ownerAgentId: String,
  status: { type: String, required: true, enum: LEAD_STATUSES },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
}, { versionKey: false });

export const LeadModel = defineModel<Lead>('SalesLead', schema);

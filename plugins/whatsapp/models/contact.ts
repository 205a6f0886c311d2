import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * A WhatsApp user. `_id` is `wa:<wa_id>` when the phone-based id was known at first contact,
 * otherwise `bsuid:<business-scoped user id>`: from 2026 a username user may arrive without a
 * phone number (reference §1.8), so both ids are looked up. The id a contact has besides its
 * `_id` is an alias: a document of its own, `{_id: <that id>, aliasOf: <contact _id>}`, so
 * that either id finds the contact by `_id` (see ContactDirectory).
 */
export interface Contact {
  _id: string;
  /** Set on an alias document only: the `_id` of the contact this id belongs to. */
  aliasOf?: string;
  waId?: string;
  userId?: string;
  profileName?: string;
  username?: string;
  /** Last inbound message time per sender phone number id: the 24-hour customer-service window. */
  lastInboundAt: Map<string, Date>;
  marketing?: { state: 'stopped' | 'resumed'; at: Date; source: 'user_preferences' | 'send_error_131050' };
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<Contact>({
  _id: { type: String, required: true },
  aliasOf: String,
  waId: String,
  userId: String,
  profileName: String,
  username: String,
  lastInboundAt: { type: Map, of: Date, default: () => new Map() },
  marketing: { state: String, at: Date, source: String, _id: false },
  createdAt: { type: Date, default: () => new Date() },
  updatedAt: { type: Date, default: () => new Date() },
}, { versionKey: false });
schema.index({ waId: 1 });
schema.index({ userId: 1 });

export const ContactModel = defineModel<Contact>('WhatsappContact', schema);

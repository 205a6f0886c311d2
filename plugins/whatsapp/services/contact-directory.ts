/**
 * Contacts by wa_id or business-scoped user id, their marketing preference and service windows.
 * Lookups go by `_id` (`wa:<wa_id>`, `bsuid:<user id>`), the one lookup FerretDB v1 serves from
 * an index; the `$or` scan runs only when a contact is about to be created.
 */
import type { Model } from 'mongoose';
import { inject, injectable } from '../../../core/index.js';
import { ContactModel, type Contact } from '../models/contact.js';
import { MessageFacts } from './message-facts.js';

export const WINDOW_MS = 24 * 60 * 60 * 1000;

export interface Identity {
  waId?: string;
  userId?: string;
  profileName?: string;
  username?: string;
}

export interface WindowState {
  open: boolean;
  lastInboundAt: string | null;
  closesAt: string | null;
}

const DUPLICATE_KEY = 11000;
const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]+$/;

@injectable()
export class ContactDirectory {
  constructor(
    @inject(ContactModel.token) private readonly contacts: Model<Contact>,
    @inject(MessageFacts) private readonly facts: MessageFacts,
  ) {}

  /** Finds or creates the contact for this identity and fills in ids and names it did not have. */
  async identify(identity: Identity, inbound?: { phoneNumberId: string; at: Date }): Promise<Contact> {
    if (!identity.waId && !identity.userId) throw new Error('a contact needs a wa_id or a user id');
    const set: Partial<Contact> = { updatedAt: new Date() };
    if (identity.waId) set.waId = identity.waId;
    if (identity.userId) set.userId = identity.userId;
    if (identity.profileName) set.profileName = identity.profileName;
    if (identity.username) set.username = identity.username;
    const ids = [...(identity.waId ? [`wa:${identity.waId}`] : []), ...(identity.userId ? [`bsuid:${identity.userId}`] : [])];
    for (let attempt = 0; attempt < 3; attempt++) {
      // One write: identity fields, and the service window this inbound message opens (never shortened).
      const update = { $set: set, ...(inbound ? { $max: { [`lastInboundAt.${inbound.phoneNumberId}`]: inbound.at } } : {}) };
      for (const id of ids) {
        const found = await this.contacts.findOneAndUpdate({ _id: id }, update, { returnDocument: 'after', lean: true });
        if (found) return found as Contact;
      }
      const or = [...(identity.waId ? [{ waId: identity.waId }] : []), ...(identity.userId ? [{ userId: identity.userId }] : [])];
      const scanned = await this.contacts.findOneAndUpdate({ $or: or }, update, { returnDocument: 'after', lean: true });
      if (scanned) return scanned as Contact;
      try {
        const created = await this.contacts.create({ _id: ids[0], ...set, ...(inbound ? { lastInboundAt: new Map([[inbound.phoneNumberId, inbound.at]]) } : {}), createdAt: new Date() });
        this.facts.contactCreated(created._id, inbound?.at ?? created.createdAt, inbound?.phoneNumberId);
        return created.toObject();
      } catch (error) {
        // Another update of the same POST created it first: find it on the next pass.
        if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      }
    }
    throw new Error('could not create or find the contact');
  }

  /** The contact for a phone number (any format) or a business-scoped user id, if known. */
  async find(phoneOrUserId: string): Promise<Contact | null> {
    if (BSUID.test(phoneOrUserId)) {
      return await this.contacts.findById(`bsuid:${phoneOrUserId}`).lean<Contact>() ?? this.contacts.findOne({ userId: phoneOrUserId }).lean<Contact>();
    }
    return this.contacts.findById(`wa:${phoneOrUserId.replace(/\D/g, '')}`).lean<Contact>();
  }

  window(contact: Pick<Contact, 'lastInboundAt'> | null, phoneNumberId: string, now = new Date()): WindowState {
    const raw = contact?.lastInboundAt instanceof Map ? contact.lastInboundAt.get(phoneNumberId) : (contact?.lastInboundAt as Record<string, Date> | undefined)?.[phoneNumberId];
    if (!raw) return { open: false, lastInboundAt: null, closesAt: null };
    const last = new Date(raw);
    const closes = new Date(last.getTime() + WINDOW_MS);
    return { open: closes > now, lastInboundAt: last.toISOString(), closesAt: closes.toISOString() };
  }

  /** Records a marketing stop/resume; an older signal never overwrites a newer one. */
  async setMarketing(contactId: string, state: 'stopped' | 'resumed', at: Date, source: 'user_preferences' | 'send_error_131050'): Promise<void> {
    await this.contacts.findOneAndUpdate(
      { _id: contactId, $or: [{ 'marketing.at': { $exists: false } }, { 'marketing.at': { $lte: at } }] },
      { $set: { marketing: { state, at, source }, updatedAt: new Date() } },
    );
  }
}

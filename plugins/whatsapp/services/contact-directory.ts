/**
 * Contacts by wa_id or business-scoped user id, their marketing preference and service windows.
 * Every lookup goes by `_id`, the one lookup FerretDB v1 serves from an index: a contact's own
 * (`wa:<wa_id>`, else `bsuid:<user id>`) and, for the other id it has, an alias document
 * `{_id: <that id>, aliasOf: <contact id>}` in the same collection. So the contact of a message
 * is found by a read by `_id`, with no scan.
 */
import type { Collection } from 'mongodb';
import type { Model, UpdateQuery } from 'mongoose';
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken } from '../../../core/index.js';
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
/** Marks a database whose contacts all have their aliases (written once by `completeAliases`). */
const ALIASES_COMPLETE = 'meta:aliases-complete';

const isDuplicate = (error: unknown) => (error as { code?: number }).code === DUPLICATE_KEY;

@injectable()
export class ContactDirectory {
  /**
   * False until every contact of the database is known to have its aliases (a database from
   * before aliases existed gets them once, at start): until then a contact about to be created
   * is first looked for with the old `$or` scan.
   */
  private aliasesComplete = false;

  constructor(
    @inject(ContactModel.token) private readonly contacts: Model<Contact>,
    @inject(MessageFacts) private readonly facts: MessageFacts,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /**
   * Gives every contact that has both ids an alias for the one that is not its `_id` (contacts
   * stored before aliases existed), once per database; returns how many were written.
   */
  async completeAliases(): Promise<number> {
    if (await this.contacts.exists({ _id: ALIASES_COMPLETE })) {
      this.aliasesComplete = true;
      return 0;
    }
    const both = this.contacts.find({ aliasOf: { $exists: false }, waId: { $exists: true }, userId: { $exists: true } }, { _id: 1, waId: 1, userId: 1 }).lean<Contact[]>().cursor();
    let written = 0;
    for await (const contact of both as AsyncIterable<Contact>) {
      const other = contact._id === `wa:${contact.waId}` ? `bsuid:${contact.userId}` : `wa:${contact.waId}`;
      if (await this.addAlias(other, contact._id)) written++;
    }
    await this.collection.insertOne({ _id: ALIASES_COMPLETE, createdAt: new Date() } as never).catch((error: unknown) => { if (!isDuplicate(error)) throw error; });
    this.aliasesComplete = true;
    if (written) this.logger.info('whatsapp contact aliases written for contacts stored before they existed', { written });
    return written;
  }

  /** Finds or creates the contact for this identity and fills in ids and names it did not have. */
  async identify(identity: Identity, inbound?: { phoneNumberId: string; at: Date }): Promise<Contact> {
    if (!identity.waId && !identity.userId) throw new Error('a contact needs a wa_id or a user id');
    const set: Partial<Contact> = { updatedAt: new Date() };
    if (identity.waId) set.waId = identity.waId;
    if (identity.userId) set.userId = identity.userId;
    if (identity.profileName) set.profileName = identity.profileName;
    if (identity.username) set.username = identity.username;
    const ids = [...(identity.waId ? [`wa:${identity.waId}`] : []), ...(identity.userId ? [`bsuid:${identity.userId}`] : [])];
    // One write: identity fields, and the service window this inbound message opens (never shortened).
    const update: UpdateQuery<Contact> = { $set: set, ...(inbound ? { $max: { [`lastInboundAt.${inbound.phoneNumberId}`]: inbound.at } } : {}) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const found = await this.findOrCreate(ids, identity, update);
        if (found.created) this.facts.contactCreated(found.contact._id, inbound?.at ?? found.contact.createdAt, inbound?.phoneNumberId);
        return found.contact;
      } catch (error) {
        // Another update of the same POST created it first: find it on the next pass.
        if (!isDuplicate(error)) throw error;
      }
    }
    throw new Error('could not create or find the contact');
  }

  /** The contact for a phone number (any format) or a business-scoped user id, if known. */
  async find(phoneOrUserId: string): Promise<Contact | null> {
    const userId = BSUID.test(phoneOrUserId);
    const found = await this.byId(userId ? `bsuid:${phoneOrUserId}` : `wa:${phoneOrUserId.replace(/\D/g, '')}`);
    if (found || !userId || this.aliasesComplete) return found;
    return this.contacts.findOne({ userId: phoneOrUserId, aliasOf: { $exists: false } }).lean<Contact>();
  }

  /** The contact `_id` names, through its alias if it is one. */
  private async byId(id: string): Promise<Contact | null> {
    const found = await this.contacts.findById(id).lean<Contact>();
    return found?.aliasOf ? this.contacts.findById(found.aliasOf).lean<Contact>() : found;
  }

  private get collection(): Collection<Contact> {
    return this.contacts.collection as unknown as Collection<Contact>;
  }

  /**
   * Looks each id of the message up by `_id` (an alias leads to its contact) before writing, and
   * then writes only what changes: an insert for a new contact, an update for a known one that
   * learned something. On FerretDB v1 reads and inserts by `_id` are cheap, while an update, a
   * findAndModify or an upsert costs a pass over the collection (see docs/whatsapp.md).
   */
  private async findOrCreate(ids: string[], identity: Identity, update: UpdateQuery<Contact>): Promise<{ contact: Contact; created: boolean }> {
    for (const id of ids) {
      const before = await this.byId(id);
      if (!before) continue;
      const after = applied(before, update);
      if (changed(before, after)) await this.contacts.updateOne({ _id: before._id }, update);
      // The contact learns an id: its alias makes the next message with only that id find it.
      const known = [before._id, `wa:${before.waId}`, `bsuid:${before.userId}`];
      for (const other of ids.filter((i) => !known.includes(i))) await this.addAlias(other, before._id);
      return { contact: after, created: false };
    }
    if (!this.aliasesComplete) {
      const or = [...(identity.waId ? [{ waId: identity.waId }] : []), ...(identity.userId ? [{ userId: identity.userId }] : [])];
      const scanned = await this.contacts.findOneAndUpdate({ $or: or, aliasOf: { $exists: false } }, update, { returnDocument: 'after', lean: true }) as Contact | null;
      if (scanned) return { contact: scanned, created: false };
    }
    const [id, ...others] = ids as [string, ...string[]];
    const contact = applied({ _id: id, createdAt: new Date() } as Contact, update);
    await this.collection.insertOne(contact);
    for (const other of others) await this.addAlias(other, id);
    return { contact, created: true };
  }

  /** Records `id` as another id of contact `contactId`; false when it already names someone. */
  private async addAlias(id: string, contactId: string): Promise<boolean> {
    try {
      await this.collection.insertOne({ _id: id, aliasOf: contactId, createdAt: new Date() } as never);
      return true;
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      return false;
    }
  }

  window(contact: Pick<Contact, 'lastInboundAt'> | null, phoneNumberId: string, now = new Date()): WindowState {
    const raw = contact?.lastInboundAt instanceof Map ? contact.lastInboundAt.get(phoneNumberId) : (contact?.lastInboundAt as Record<string, Date> | undefined)?.[phoneNumberId];
    return windowSince(raw ? new Date(raw) : null, now);
  }

  /** Records a marketing stop/resume; an older signal never overwrites a newer one. */
  async setMarketing(contactId: string, state: 'stopped' | 'resumed', at: Date, source: 'user_preferences' | 'send_error_131050'): Promise<void> {
    await this.contacts.findOneAndUpdate(
      { _id: contactId, $or: [{ 'marketing.at': { $exists: false } }, { 'marketing.at': { $lte: at } }] },
      { $set: { marketing: { state, at, source }, updatedAt: new Date() } },
    );
  }
}

/** The customer-service window opened by a customer's message at `last` (none: closed). */
export function windowSince(last: Date | null, now = new Date()): WindowState {
  if (!last) return { open: false, lastInboundAt: null, closesAt: null };
  const closes = new Date(last.getTime() + WINDOW_MS);
  return { open: closes > now, lastInboundAt: last.toISOString(), closesAt: closes.toISOString() };
}

/** The contact after `update` (`$set`, and `$max` of one service window), as the write left it. */
function applied(contact: Contact, update: UpdateQuery<Contact>): Contact {
  const after = { ...contact, ...(update.$set as Partial<Contact>) };
  const windows = { ...(contact.lastInboundAt as unknown as Record<string, Date> | undefined) };
  for (const [path, at] of Object.entries((update.$max ?? {}) as Record<string, Date>)) {
    const phoneNumberId = path.slice('lastInboundAt.'.length);
    const known = windows[phoneNumberId];
    if (!known || new Date(known) < at) windows[phoneNumberId] = at;
  }
  return { ...after, lastInboundAt: windows as unknown as Contact['lastInboundAt'] };
}

/** Whether `after` differs from `before` in anything but `updatedAt` (else the write is skipped). */
function changed(before: Contact, after: Contact): boolean {
  const windows = (contact: Contact) => contact.lastInboundAt as unknown as Record<string, Date> | undefined ?? {};
  const fields = ['waId', 'userId', 'profileName', 'username'] as const;
  return fields.some((field) => before[field] !== after[field])
    || Object.entries(windows(after)).some(([phoneNumberId, at]) => new Date(windows(before)[phoneNumberId] ?? 0).getTime() !== new Date(at).getTime());
}

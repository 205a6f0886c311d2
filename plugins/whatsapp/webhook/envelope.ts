/**
 * Splits a webhook POST (`{object, entry[{id, changes[{field, value}]}]}`, reference §1.3) into
 * single updates, each with the durable key that makes a redelivery a no-op. Unknown fields are
 * tolerated; an update we cannot key is kept under a hash of its content.
 */
import { createHash } from 'node:crypto';
import type { UpdateKind } from '../models/webhook-update.js';

export interface SplitUpdate {
  key: string;
  kind: UpdateKind;
  field: string;
  wabaId?: string;
  phoneNumberId?: string;
  payload: Record<string, unknown>;
}

export class MalformedWebhookError extends Error {}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

function contentKey(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

export function splitWebhook(body: unknown): SplitUpdate[] {
  if (!isObject(body) || !Array.isArray(body.entry)) throw new MalformedWebhookError('expected {object, entry: [...]}');
  const updates: SplitUpdate[] = [];
  for (const entry of body.entry) {
    if (!isObject(entry) || !Array.isArray(entry.changes)) throw new MalformedWebhookError('each entry needs a changes array');
    const wabaId = str(entry.id);
    for (const change of entry.changes) {
      if (!isObject(change) || typeof change.field !== 'string' || !isObject(change.value)) throw new MalformedWebhookError('each change needs a field and a value object');
      updates.push(...splitChange(change.field, change.value, wabaId, entry.time));
    }
  }
  return updates;
}

function splitChange(field: string, value: Json, wabaId: string | undefined, entryTime: unknown): SplitUpdate[] {
  const metadata = isObject(value.metadata) ? value.metadata : undefined;
  const phoneNumberId = str(metadata?.phone_number_id);
  const contacts = Array.isArray(value.contacts) ? value.contacts : [];
  const common = { field, wabaId, phoneNumberId };
  const out: SplitUpdate[] = [];
  if (field === 'messages') {
    for (const message of Array.isArray(value.messages) ? value.messages : []) {
      if (!isObject(message)) throw new MalformedWebhookError('messages[] items are objects');
      const id = str(message.id);
      // The contact of this message: matched by wa_id or business-scoped user id.
      const contact = contacts.find((c) => isObject(c) && ((c.wa_id !== undefined && c.wa_id === message.from) || (c.user_id !== undefined && c.user_id === message.from_user_id))) ?? contacts[0];
      out.push({ ...common, kind: 'message', key: `message:${id ?? contentKey(message)}`, payload: { metadata, contact, message } });
    }
    for (const status of Array.isArray(value.statuses) ? value.statuses : []) {
      if (!isObject(status)) throw new MalformedWebhookError('statuses[] items are objects');
      const id = str(status.id) ?? contentKey(status);
      out.push({ ...common, kind: 'status', key: `status:${id}:${str(status.status) ?? 'unknown'}`, payload: { metadata, status } });
    }
    if (Array.isArray(value.errors)) out.push({ ...common, kind: 'error', key: `error:${contentKey(value.errors)}`, payload: { metadata, errors: value.errors } });
    return out;
  }
  if (field === 'user_preferences') {
    for (const preference of Array.isArray(value.user_preferences) ? value.user_preferences : []) {
      if (!isObject(preference)) throw new MalformedWebhookError('user_preferences[] items are objects');
      const who = str(preference.wa_id) ?? str(preference.user_id) ?? 'unknown';
      const contact = contacts.find((c) => isObject(c) && (c.wa_id === preference.wa_id || (c.user_id !== undefined && c.user_id === preference.user_id))) ?? contacts[0];
      out.push({ ...common, kind: 'preference', key: `preference:${who}:${str(preference.category)}:${str(preference.value)}:${str(preference.timestamp)}`, payload: { metadata, contact, preference } });
    }
    return out;
  }
  if (field === 'message_template_status_update') {
    const key = `template-status:${str(value.message_template_id) ?? 'unknown'}:${str(value.event)}:${str(entryTime) ?? contentKey(value)}`;
    return [{ ...common, kind: 'template-status', key, payload: { value, time: entryTime } }];
  }
  return [{ ...common, kind: 'other', key: `${field}:${contentKey(value)}`, payload: { value } }];
}

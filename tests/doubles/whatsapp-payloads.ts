/**
 * Webhook payloads in the shapes Meta sends (reference/whatsapp.md §1), for the Graph API double
 * and the tests. Values follow Meta's documented examples.
 */
export const WABA_ID = '102290129340398';
export const PHONE_NUMBER_ID = '106540352242922';
export const DISPLAY_PHONE_NUMBER = '15550783881';

export interface Envelope { object: 'whatsapp_business_account'; entry: Array<{ id: string; time?: number; changes: Array<{ field: string; value: Record<string, unknown> }> }> }

let counter = 0;
/** A fresh wamid-looking id. */
export const wamid = (): string => `wamid.HBgL${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 10)}`.toUpperCase().replace('WAMID', 'wamid');
export const unix = (date = new Date()): string => String(Math.floor(date.getTime() / 1000));

export function envelope(field: string, value: Record<string, unknown>, time?: number): Envelope {
  return { object: 'whatsapp_business_account', entry: [{ id: WABA_ID, ...(time ? { time } : {}), changes: [{ field, value }] }] };
}

const metadata = (phoneNumberId = PHONE_NUMBER_ID) => ({ display_phone_number: DISPLAY_PHONE_NUMBER, phone_number_id: phoneNumberId });

export interface InboundOptions {
  from?: string;
  userId?: string;
  name?: string;
  id?: string;
  timestamp?: string;
  phoneNumberId?: string;
  context?: { from: string; id: string };
  /** Leave out wa_id/from, as for a username user (reference §1.8). */
  withoutPhone?: boolean;
}

/** One inbound message of any type; `content` is the type's object (`{body}` for text…). */
export function inbound(type: string, content: Record<string, unknown> | undefined, options: InboundOptions = {}): { payload: Envelope; id: string } {
  const from = options.from ?? '16315551181';
  const id = options.id ?? wamid();
  const message: Record<string, unknown> = {
    ...(options.withoutPhone ? {} : { from }), ...(options.userId ? { from_user_id: options.userId } : {}),
    id, timestamp: options.timestamp ?? unix(), type, ...(content ? { [type]: content } : {}), ...(options.context ? { context: options.context } : {}),
  };
  const contact = { profile: { name: options.name ?? 'Kerry Fisher' }, ...(options.withoutPhone ? {} : { wa_id: from }), ...(options.userId ? { user_id: options.userId } : {}) };
  return { id, payload: envelope('messages', { messaging_product: 'whatsapp', metadata: metadata(options.phoneNumberId), contacts: [contact], messages: [message] }) };
}

export const inboundText = (body: string, options: InboundOptions = {}) => inbound('text', { body }, options);

export interface StatusOptions {
  recipientId?: string;
  timestamp?: string;
  callbackData?: string;
  errors?: Array<{ code: number; title: string; message?: string; error_data?: { details: string } }>;
  pricing?: boolean;
  phoneNumberId?: string;
}

export function statusObject(id: string, status: string, options: StatusOptions = {}): Record<string, unknown> {
  return {
    id, status, timestamp: options.timestamp ?? unix(), recipient_id: options.recipientId ?? '16315551181',
    ...(options.callbackData ? { biz_opaque_callback_data: options.callbackData } : {}),
    ...(options.pricing !== false && status !== 'failed' ? { pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' } } : {}),
    ...(options.errors ? { errors: options.errors.map((e) => ({ ...e, message: e.message ?? e.title, href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/' })) } : {}),
  };
}

export function statuses(list: Array<Record<string, unknown>>, phoneNumberId = PHONE_NUMBER_ID): Envelope {
  return envelope('messages', { messaging_product: 'whatsapp', metadata: metadata(phoneNumberId), statuses: list });
}

export function userPreference(waId: string, value: 'stop' | 'resume', timestamp = unix()): Envelope {
  return envelope('user_preferences', {
    messaging_product: 'whatsapp', metadata: metadata(), contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: waId }],
    user_preferences: [{ wa_id: waId, detail: 'User requested to stop marketing messages', category: 'marketing_messages', value, timestamp }],
  });
}

export function templateStatus(event: string, options: { id?: string; name?: string; language?: string; reason?: string; time?: number } = {}): Envelope {
  return envelope('message_template_status_update', {
    event, message_template_id: options.id ?? '806312974732579', message_template_name: options.name ?? 'order_confirmation',
    message_template_language: options.language ?? 'en-US', reason: options.reason ?? 'NONE',
  }, options.time ?? Math.floor(Date.now() / 1000));
}

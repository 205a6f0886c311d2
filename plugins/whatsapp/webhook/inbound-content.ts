/** Turns Meta's inbound message and status objects into Flowgate's typed shapes. */
import { classifyProviderError, type ProviderError } from '../graph/provider-errors.js';
import { INBOUND_TYPES } from '../events.js';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);
const MEDIA = new Set(['image', 'audio', 'video', 'document', 'sticker']);

/** Meta timestamps are Unix seconds as strings. */
export function unixToDate(value: unknown): Date {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
}

export function providerErrors(value: unknown): ProviderError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((raw) => {
    const error = obj(raw) ?? {};
    return classifyProviderError({
      code: typeof error.code === 'number' ? error.code : Number(error.code) || undefined,
      title: str(error.title) ?? str(error.message),
      details: str(obj(error.error_data)?.details),
    });
  });
}

export interface InboundContent {
  type: (typeof INBOUND_TYPES)[number];
  text: string | null;
  /** Typed content by kind, stored on the message and spread into the event. */
  content: Json;
  context?: { messageId?: string; from?: string; forwarded?: boolean };
  errors?: ProviderError[];
}

export function parseInbound(message: Json): InboundContent {
  const declared = str(message.type) ?? 'unknown';
  const type = (INBOUND_TYPES as readonly string[]).includes(declared) ? declared as InboundContent['type'] : 'unknown';
  const body = obj(message[declared]);
  const context = obj(message.context);
  const base: Omit<InboundContent, 'type' | 'text' | 'content'> = {
    ...(context ? { context: { messageId: str(context.id), from: str(context.from), ...(context.forwarded || context.frequently_forwarded ? { forwarded: true } : {}) } } : {}),
    ...(Array.isArray(message.errors) ? { errors: providerErrors(message.errors) } : {}),
  };
  const referral = obj(message.referral) ? { referral: message.referral } : {};
  switch (type) {
    case 'text':
      return { ...base, type, text: str(body?.body) ?? '', content: { ...referral } };
    case 'button':
      return { ...base, type, text: str(body?.text) ?? str(body?.payload) ?? null, content: { button: { payload: str(body?.payload), text: str(body?.text) } } };
    case 'interactive': {
      const kind = str(body?.type) ?? 'unknown';
      const reply = obj(body?.[kind]);
      return {
        ...base, type, text: str(reply?.title) ?? null,
        content: reply ? { reply: { kind, id: str(reply.id), title: str(reply.title), ...(reply.description ? { description: str(reply.description) } : {}) } } : { raw: message },
      };
    }
    case 'location':
      return {
        ...base, type, text: null,
        content: { location: { latitude: Number(body?.latitude), longitude: Number(body?.longitude), ...(body?.name ? { name: str(body.name) } : {}), ...(body?.address ? { address: str(body.address) } : {}) } },
      };
    default:
      if (MEDIA.has(type)) {
        return {
          ...base, type, text: str(body?.caption) ?? null,
          content: { media: { kind: type, id: str(body?.id), mimeType: str(body?.mime_type), sha256: str(body?.sha256), caption: str(body?.caption), filename: str(body?.filename) } },
        };
      }
      // unsupported, unknown, reaction, contacts, order, system: kept as received.
      return { ...base, type, text: null, content: { raw: message } };
  }
}

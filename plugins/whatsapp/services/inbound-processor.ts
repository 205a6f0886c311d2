/**
 * Webhook updates: stored first (one document each, keyed so a redelivery inserts nothing),
 * then processed after the POST was answered — contacts, inbound messages, status timelines,
 * preferences — and handed to the workflow engine. Updates left unprocessed by a crash or an
 * engine outage are picked up again by `sweep`.
 */
import type { Model } from 'mongoose';
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, MongoConnection, Realtime, RedisConnection, WorkflowEventsToken, type WorkflowEvents } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import { TRIGGER_TYPES, type MessageEvent, type StatusEvent, type TemplateStatusEvent } from '../events.js';
import { MessageModel, type Message, type ProviderStatus } from '../models/message.js';
import { WebhookUpdateModel, type WebhookUpdate } from '../models/webhook-update.js';
import { toMessageView } from '../views.js';
import type { SplitUpdate } from '../webhook/envelope.js';
import { parseInbound, providerErrors, unixToDate } from '../webhook/inbound-content.js';
import { ContactDirectory } from './contact-directory.js';
import { DeliveryTimeline } from './delivery-timeline.js';
import { MarketingPreferences } from './marketing-preferences.js';
import { MessageFacts } from './message-facts.js';
import { MessageKeys } from './message-keys.js';
import { TemplateReviews } from './template-reviews.js';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : {});
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);
const DUPLICATE_KEY = 11000;
const PROVIDER_STATUSES = new Set(['sent', 'delivered', 'read', 'played', 'failed']);
/** How long one process may hold an update it is processing before another may take it (it died). */
const PROCESSING_CLAIM_MS = 30_000;
/**
 * How long after storing an update this process trusts its own copy instead of reading it back.
 * Whoever processes an update keeps its claim until the claim expires, and nobody can claim it
 * before it is stored: so while the update is younger than one claim, anyone who processed it
 * still holds the claim and this process cannot take it. The margin covers the moments between
 * the insert and the clock read, and clock rates.
 */
const OWN_COPY_MS = PROCESSING_CLAIM_MS - 5_000;
/**
 * Own copies kept at most: with a backlog (webhooks arriving faster than they are processed) an
 * unbounded map grew with it — 193 → 355 MB RSS in a 5-minute soak — for copies too old to use.
 */
const OWN_COPIES_MAX = 2_000;
/** Updates queued in memory at most; a longer backlog waits in the database for the sweep. */
const QUEUE_MAX = 10_000;

@injectable()
export class InboundProcessor {
  /** Keys waiting, in arrival order (a Set: taking the first and checking membership stay cheap under a backlog). */
  private readonly queue = new Set<string>();
  private active = 0;
  private idleWaiters: Array<() => void> = [];
  /** Statuses of one message run one after another here; other processes are handled by the timeline's optimistic writes. */
  private readonly perMessage = new Map<string, Promise<void>>();
  /** Updates this process stored and queued, until it starts processing them (see OWN_COPY_MS). */
  private readonly ownCopies = new Map<string, { update: WebhookUpdate; storedAt: number }>();

  constructor(
    @inject(WebhookUpdateModel.token) private readonly updates: Model<WebhookUpdate>,
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(ContactDirectory) private readonly contacts: ContactDirectory,
    @inject(DeliveryTimeline) private readonly timeline: DeliveryTimeline,
    @inject(MarketingPreferences) private readonly preferences: MarketingPreferences,
    @inject(WorkflowEventsToken) private readonly events: WorkflowEvents,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(MessageKeys) private readonly keys: MessageKeys,
    @inject(MessageFacts) private readonly facts: MessageFacts,
    @inject(TemplateReviews) private readonly reviews: TemplateReviews,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  /** Stores each update on its own; returns the keys that were new (redelivered ones are skipped). */
  async store(split: SplitUpdate[]): Promise<{ stored: string[]; duplicates: number }> {
    if (split.length === 0) return { stored: [], duplicates: 0 };
    const receivedAt = new Date();
    // The same key twice in one POST (a status repeated in a batch) is stored once.
    const unique = [...new Map(split.map((u) => [u.key, u])).values()];
    // Updates of fields this plugin does not act on are kept for the record only.
    const docs: WebhookUpdate[] = unique.map((u) => ({
      _id: u.key, kind: u.kind, field: u.field, wabaId: u.wabaId, phoneNumberId: u.phoneNumberId, payload: u.payload,
      state: u.kind === 'other' || u.kind === 'error' ? 'processed' : 'stored', attempts: 0, receivedAt,
    }));
    // Each update an insert of its own, batched with those of webhooks arriving meanwhile (one command).
    const outcomes = await Promise.allSettled(docs.map((doc) => this.mongo.insertRaw(this.updates, doc)));
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && (o.reason as { code?: number }).code !== DUPLICATE_KEY);
    if (refused) throw refused.reason;
    const failed = new Set(outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : [])));
    const stored = docs.filter((d, i) => !failed.has(i) && d.state === 'stored');
    const storedAt = Date.now();
    // Copies are kept in the order they were stored: the oldest go first, when stale or over the cap.
    for (const [key, copy] of this.ownCopies) {
      if (storedAt - copy.storedAt < OWN_COPY_MS && this.ownCopies.size + stored.length <= OWN_COPIES_MAX) break;
      this.ownCopies.delete(key);
    }
    for (const update of stored) this.ownCopies.set(update._id, { update, storedAt });
    return { stored: stored.map((d) => d._id), duplicates: split.length - docs.length + failed.size };
  }

  /** Processes the given updates in the background, a few at a time. */
  enqueue(keys: string[]): void {
    // Past the cap, updates wait in the database alone (they are stored): the sweep queues them.
    for (const key of keys) {
      if (this.queue.size >= QUEUE_MAX) break;
      this.queue.add(key);
    }
    this.pump();
  }

  /** Resolves when nothing is queued or running (tests, benchmarks, shutdown). */
  idle(): Promise<void> {
    if (this.queue.size === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking queued work and waits for the updates in progress; the rest stay stored for the next sweep. */
  async drain(): Promise<void> {
    this.queue.clear();
    this.ownCopies.clear();
    await this.idle();
  }

  /** Queues updates stored but not processed (after a crash, or when the engine failed). */
  async sweep(olderThanMs = 5_000): Promise<number> {
    const stale = await this.updates.find({ state: 'stored', receivedAt: { $lt: new Date(Date.now() - olderThanMs) } }, { _id: 1 }).sort({ receivedAt: 1 }).limit(1_000).lean();
    const keys = stale.map((u) => u._id).filter((key) => !this.queue.has(key));
    this.enqueue(keys);
    return keys.length;
  }

  private pump(): void {
    while (this.active < this.config.webhook.processConcurrency && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      this.active++;
      void this.processKey(key).finally(() => {
        this.active--;
        if (this.queue.size > 0) this.pump();
        else if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async processKey(key: string): Promise<void> {
    const own = this.ownCopies.get(key);
    this.ownCopies.delete(key);
    // Another process's sweep may have queued the same update (it was still waiting here when it
    // turned 5 s old, or that process was just starting): one process at a time works on it.
    const claim = await this.redis.tryLock(`whatsapp.update:${key}`, PROCESSING_CLAIM_MS).catch(() => null);
    if (!claim) return;
    // Kept after success until it expires: a sweep that read the update as stored a moment before
    // it was marked processed finds it taken, and the own copy stays trustworthy (OWN_COPY_MS).
    const processed = await this.processClaimed(key, own && Date.now() - own.storedAt < OWN_COPY_MS ? own.update : undefined);
    if (!processed) await claim.release().catch(() => undefined);
  }

  /** Returns whether the update is processed (by this call or before it). */
  private async processClaimed(key: string, own?: WebhookUpdate): Promise<boolean> {
    let update = own;
    if (!update) {
      try {
        update = await this.mongo.findOneById(this.updates, { _id: key, state: 'stored' }) ?? undefined;
      } catch {
        return false; // the store is down: the next sweep tries again
      }
      if (!update) return true;
    }
    try {
      await this.process(update);
      // updateOne, not findOneAndUpdate: on FerretDB v1 findAndModify scans the (large) collection.
      await this.updates.updateOne({ _id: key }, { $set: { state: 'processed', processedAt: new Date() }, $inc: { attempts: 1 } });
      return true;
    } catch (error) {
      this.logger.error('whatsapp webhook update failed', { key, error: (error as Error).message });
      await this.updates.updateOne({ _id: key }, { $set: { lastError: (error as Error).message }, $inc: { attempts: 1 } }).catch(() => undefined);
      return false;
    }
  }

  private async process(update: WebhookUpdate): Promise<void> {
    switch (update.kind) {
      case 'message': return this.processMessage(update);
      case 'status': return this.serially(String(obj(update.payload.status).id ?? update._id), () => this.processStatus(update));
      case 'preference': return this.processPreference(update);
      case 'template-status': return this.processTemplateStatus(update);
      default:
        this.logger.warn('whatsapp webhook update kept without processing', { key: update._id, kind: update.kind, field: update.field });
    }
  }

  private async serially(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.perMessage.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.perMessage.set(key, next);
    try {
      await next;
    } finally {
      if (this.perMessage.get(key) === next) this.perMessage.delete(key);
    }
  }

  private async processMessage(update: WebhookUpdate): Promise<void> {
    const metadata = obj(update.payload.metadata);
    const message = obj(update.payload.message);
    const contactRaw = obj(update.payload.contact);
    const profile = obj(contactRaw.profile);
    const waId = str(message.from) ?? str(contactRaw.wa_id);
    const userId = str(message.from_user_id) ?? str(contactRaw.user_id);
    const phoneNumberId = update.phoneNumberId ?? str(metadata.phone_number_id) ?? 'unknown';
    const providerMessageId = str(message.id) ?? update._id;
    const at = unixToDate(message.timestamp);
    const contact = await this.contacts.identify({ waId, userId, profileName: str(profile.name), username: str(profile.username) }, { phoneNumberId, at });
    const parsed = parseInbound(message);
    let stored: Message | null = null;
    {
      try {
        stored = await this.mongo.insertNew<Message>(this.messages, {
          direction: 'inbound', idempotencyKey: `in:${providerMessageId}`, phoneNumberId, contactId: contact._id, phone: waId, userId,
          type: parsed.type, ...(parsed.text !== null ? { text: parsed.text } : {}), content: parsed.content, context: parsed.context,
          providerMessageId, status: 'received', statusRank: 0, timeline: [{ status: 'received', at, source: 'webhook', ...(parsed.errors ? { errors: parsed.errors } : {}) }],
          ...(parsed.errors?.[0] ? { error: parsed.errors[0] } : {}), attempts: 0, policyDecisions: [], origin: 'webhook', createdAt: at, updatedAt: new Date(),
        });
        await this.keys.remember(`wamid:${providerMessageId}`, String(stored._id));
        this.realtime.publish('messages', 'message.received', toMessageView(stored));
      } catch (error) {
        if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
        // Processed before (a retry after a crash): the message exists. Its wamid key may not, when the
        // crash came between the two writes, and replies find the message they answer by that key.
        stored = await this.keys.byProviderId(providerMessageId);
        if (!stored) {
          stored = await this.messages.findOne({ idempotencyKey: `in:${providerMessageId}` }).lean<Message>() as Message;
          await this.keys.remember(`wamid:${providerMessageId}`, String(stored._id));
        }
      }
    }
    this.keys.noteInbound(stored);
    this.facts.received({ providerMessageId, phoneNumberId, type: parsed.type }, at);
    const answered = parsed.context?.messageId ? await this.keys.byProviderId(parsed.context.messageId) : null;
    if (answered?.direction === 'outbound') this.facts.replied(providerMessageId, answered, at);
    const payload: MessageEvent = {
      messageId: String(stored._id), providerMessageId, phoneNumberId, from: waId ?? null, fromUserId: userId ?? null,
      contact: { id: contact._id, ...(contact.waId ? { waId: contact.waId } : {}), ...(contact.userId ? { userId: contact.userId } : {}), ...(contact.profileName ? { name: contact.profileName } : {}), ...(contact.username ? { username: contact.username } : {}) },
      type: parsed.type, text: parsed.text, timestamp: at.toISOString(),
      ...(str(metadata.display_phone_number) ? { displayPhoneNumber: str(metadata.display_phone_number) } : {}),
      ...parsed.content, ...(parsed.context ? { context: parsed.context } : {}), ...(parsed.errors ? { errors: parsed.errors } : {}),
    } as MessageEvent;
    await this.events.submit({ type: TRIGGER_TYPES.message, sourceId: providerMessageId, payload, occurredAt: at });
  }

  private async processStatus(update: WebhookUpdate): Promise<void> {
    const status = obj(update.payload.status);
    const value = str(status.status) ?? '';
    const providerMessageId = str(status.id) ?? update._id;
    if (!PROVIDER_STATUSES.has(value)) {
      this.logger.warn('whatsapp status of an unknown kind kept without processing', { key: update._id, status: value });
      return;
    }
    const at = unixToDate(status.timestamp);
    const errors = providerErrors(status.errors);
    const pricing = Object.keys(obj(status.pricing)).length ? obj(status.pricing) : undefined;
    const conversation = Object.keys(obj(status.conversation)).length ? obj(status.conversation) : undefined;
    const result = await this.timeline.apply({
      providerMessageId, callbackData: str(status.biz_opaque_callback_data), status: value as ProviderStatus, at, errors, pricing, conversation,
    });
    if (result) this.facts.outbound(value as ProviderStatus, result.message, at, { category: str(pricing?.category), errorCode: errors?.[0] ? String(errors[0].code) : undefined });
    if (value === 'failed' && errors?.some((e) => e.code === 131050) && result?.message.contactId) {
      await this.preferences.record({ contactId: result.message.contactId, ...(result.message.phone ? { waId: result.message.phone } : {}), phoneNumberId: result.message.phoneNumberId, value: 'stop', at, source: 'send_error_131050', messageId: String(result.message._id) });
    }
    const payload: StatusEvent = {
      providerMessageId, status: value as StatusEvent['status'], timestamp: at.toISOString(), phoneNumberId: update.phoneNumberId ?? 'unknown',
      ...(result ? { messageId: String(result.message._id), applied: result.applied } : {}),
      ...(str(status.recipient_id) ? { recipientId: str(status.recipient_id) } : {}),
      ...(str(status.recipient_user_id) ? { recipientUserId: str(status.recipient_user_id) } : {}),
      ...(errors ? { errors: errors as StatusEvent['errors'] } : {}), ...(pricing ? { pricing } : {}), ...(conversation ? { conversation } : {}),
    };
    await this.events.submit({ type: TRIGGER_TYPES.status, sourceId: `${providerMessageId}:${value}`, payload, occurredAt: at });
  }

  private async processPreference(update: WebhookUpdate): Promise<void> {
    const preference = obj(update.payload.preference);
    const contactRaw = obj(update.payload.contact);
    const waId = str(preference.wa_id) ?? str(contactRaw.wa_id);
    const userId = str(preference.user_id) ?? str(contactRaw.user_id);
    const value = str(preference.value);
    if ((value !== 'stop' && value !== 'resume') || (!waId && !userId)) {
      this.logger.warn('whatsapp user preference kept without processing', { key: update._id });
      return;
    }
    const contact = await this.contacts.identify({ waId, userId, profileName: str(obj(contactRaw.profile).name) });
    await this.preferences.record({
      contactId: contact._id, waId, userId, phoneNumberId: update.phoneNumberId, value, at: unixToDate(preference.timestamp),
      source: 'user_preferences', category: str(preference.category),
    });
  }

  private async processTemplateStatus(update: WebhookUpdate): Promise<void> {
    const value = obj(update.payload.value);
    const at = update.payload.time !== undefined ? unixToDate(update.payload.time) : update.receivedAt;
    const reason = str(value.reason);
    const payload: TemplateStatusEvent = {
      event: str(value.event) ?? 'UNKNOWN', templateId: str(value.message_template_id) ?? '', templateName: str(value.message_template_name) ?? '',
      // Meta writes en-US here and en_US elsewhere (reference, uncertain 6).
      language: (str(value.message_template_language) ?? '').replace('-', '_'),
      reason: reason && reason !== 'NONE' ? reason : null, timestamp: new Date(at).toISOString(),
      ...(update.wabaId ? { wabaId: update.wabaId } : {}),
    };
    await this.reviews.notify(payload);
    this.realtime.publish('delivery', 'template.status', payload);
    await this.events.submit({ type: TRIGGER_TYPES.templateStatus, sourceId: update._id, payload, occurredAt: new Date(at) });
  }
}

/**
 * Reports countable message facts as `analytics` core events, for whoever keeps figures. Each id
 * is derived from the message the fact is about, so a redelivered webhook or a retried step
 * reports the same id and is counted once.
 */
import { CoreEvents, inject, injectable } from '../../../core/index.js';
import type { Message, ProviderStatus } from '../models/message.js';

const defined = (dimensions: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(dimensions).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''));

/** What outbound figures are broken down by: the sending number, the template and the campaign. */
const outboundDimensions = (message: Pick<Message, 'phoneNumberId' | 'template' | 'campaignId'>) => ({
  phoneNumberId: message.phoneNumberId, templateName: message.template?.name, campaignId: message.campaignId,
});

@injectable()
export class MessageFacts {
  constructor(@inject(CoreEvents) private readonly coreEvents: CoreEvents) {}

  /** One of our messages was accepted by the Graph API (`sent`), or reached a provider status. */
  outbound(fact: 'sent' | ProviderStatus, message: Message, at: Date, extra: { category?: string; errorCode?: string } = {}): void {
    this.emit(`message.${fact}:${String(message._id)}`, `message.${fact}`, at, { ...outboundDimensions(message), ...extra });
  }

  /** A customer's message arrived. */
  received(message: Pick<Message, 'providerMessageId' | 'phoneNumberId' | 'type'>, at: Date): void {
    this.emit(`message.received:${message.providerMessageId}`, 'message.received', at, { phoneNumberId: message.phoneNumberId, messageType: message.type });
  }

  /** A customer's message answers (quotes, or presses a button of) one of our messages. */
  replied(providerMessageId: string, answered: Message, at: Date): void {
    this.emit(`message.replied:${providerMessageId}`, 'message.replied', at, outboundDimensions(answered));
  }

  /** A contact wrote to a number for the first time. */
  contactCreated(contactId: string, at: Date, phoneNumberId?: string): void {
    this.emit(`contact.created:${contactId}`, 'contact.created', at, { phoneNumberId });
  }

  private emit(id: string, type: string, occurredAt: Date, dimensions: Record<string, string | undefined>): void {
    this.coreEvents.emit('analytics', { id, type, occurredAt, dimensions: defined(dimensions) });
  }
}

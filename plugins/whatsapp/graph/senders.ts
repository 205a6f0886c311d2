/** The configured sender numbers, each with its own pooled Graph API client. */
import { HttpError, inject, injectable } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import { GraphClient } from './graph-client.js';

export interface Sender {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  client: GraphClient;
}

@injectable()
export class Senders {
  private readonly byId = new Map<string, Sender>();

  constructor(@inject(WhatsappConfigToken) private readonly config: WhatsappConfig) {
    const declared = [...config.senders];
    if (config.phoneNumberId && !declared.some((s) => s.phoneNumberId === config.phoneNumberId)) declared.unshift({ phoneNumberId: config.phoneNumberId });
    for (const sender of declared) {
      const accessToken = (sender.accessTokenVariable ? process.env[sender.accessTokenVariable] : undefined) ?? config.accessToken ?? '';
      this.byId.set(sender.phoneNumberId, {
        phoneNumberId: sender.phoneNumberId,
        displayPhoneNumber: sender.displayPhoneNumber,
        client: new GraphClient({
          apiUrl: config.apiUrl, apiVersion: config.apiVersion, phoneNumberId: sender.phoneNumberId, accessToken,
          timeoutMs: config.requestTimeoutMs, maxSockets: config.maxSockets,
        }),
      });
    }
  }

  list(): Sender[] {
    return [...this.byId.values()];
  }

  /** The named sender, or the first configured one. Throws 422 when there is none. */
  resolve(phoneNumberId?: string): Sender {
    const sender = phoneNumberId ? this.byId.get(phoneNumberId) : this.byId.values().next().value;
    if (!sender) {
      throw phoneNumberId
        ? new HttpError(422, 'WHATSAPP_SENDER_UNKNOWN', `No sender with phone number id ${phoneNumberId} is configured`)
        : new HttpError(422, 'WHATSAPP_NO_SENDER', 'No WhatsApp sender is configured (set WHATSAPP_PHONE_NUMBER_ID or pluginSettings.whatsapp.senders)');
    }
    return sender;
  }

  has(phoneNumberId: string): boolean {
    return this.byId.has(phoneNumberId);
  }

  close(): void {
    for (const sender of this.byId.values()) sender.client.close();
  }
}

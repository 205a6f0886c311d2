/**
 * Meta's template review, for the plugin that keeps templates: submitting one to the business
 * account, and hearing the `message_template_status_update` webhooks. A listener registry rather
 * than a workflow trigger, because the keeper of templates must see every status change (sending
 * eligibility depends on it) whether or not a workflow listens.
 */
import { HttpError, inject, injectable } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import type { TemplateStatusEvent } from '../events.js';
import type { GraphResult } from '../graph/graph-client.js';
import { Senders } from '../graph/senders.js';

/** Called once per stored template-status update; throwing leaves the update for the next sweep. */
export type TemplateStatusListener = (event: TemplateStatusEvent) => Promise<void>;

/** Body of `POST /{WABA-ID}/message_templates` (reference §4). */
export interface TemplateSubmission {
  name: string;
  language: string;
  category: string;
  parameter_format?: 'positional' | 'named';
  components: unknown[];
}

@injectable()
export class TemplateReviews {
  private readonly listeners: TemplateStatusListener[] = [];

  constructor(@inject(WhatsappConfigToken) private readonly config: WhatsappConfig, @inject(Senders) private readonly senders: Senders) {}

  /** Registers a listener (at plugin start). Listeners run in registration order, before workflows hear the event. */
  onStatus(listener: TemplateStatusListener): void {
    this.listeners.push(listener);
  }

  /** Tells every listener; a listener's error propagates so the webhook update is retried. */
  async notify(event: TemplateStatusEvent): Promise<void> {
    for (const listener of this.listeners) await listener(event);
  }

  /**
   * Submits a template for review on the configured business account, with the first sender's
   * token. Throws 422 WHATSAPP_NO_BUSINESS_ACCOUNT (or WHATSAPP_NO_SENDER) when not configured.
   */
  async submit(template: TemplateSubmission, signal?: AbortSignal): Promise<GraphResult<{ id: string; status: string; category: string }>> {
    const businessAccountId = this.config.businessAccountId;
    if (!businessAccountId) throw new HttpError(422, 'WHATSAPP_NO_BUSINESS_ACCOUNT', 'No WhatsApp Business Account is configured (set WHATSAPP_BUSINESS_ACCOUNT_ID)');
    return this.senders.resolve().client.submitTemplate(businessAccountId, template, signal);
  }

  /** Sends new content for a template the provider already has; it goes back to review. */
  async edit(providerTemplateId: string, template: Pick<TemplateSubmission, 'category' | 'components'>, signal?: AbortSignal): Promise<GraphResult<{ success: boolean }>> {
    return this.senders.resolve().client.editTemplate(providerTemplateId, template, signal);
  }
}

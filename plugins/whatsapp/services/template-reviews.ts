/**
 * Meta's template review, for the plugin that keeps templates: submitting one to the business
 * account, and hearing the `message_template_status_update` webhooks. Listeners are bound at
 * registration (not added at start), so an update processed while the plugins start — the
 * sweep of updates a stopped process left behind — already reaches them.
 */
import { HttpError, inject, injectable, multiInject, optional } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import type { TemplateStatusEvent } from '../events.js';
import type { GraphResult } from '../graph/graph-client.js';
import { Senders } from '../graph/senders.js';

/**
 * Hears every template status update, before workflows do. Contribute one from a plugin's
 * register(): `r.bind(TemplateStatusListenerToken).toService(MyListener)`.
 */
export interface TemplateStatusListener {
  /** Called once per stored update (again after a crash); throwing leaves the update for the next sweep. */
  onTemplateStatus(event: TemplateStatusEvent): Promise<void>;
}
export const TemplateStatusListenerToken = Symbol.for('whatsapp.TemplateStatusListener');

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
  constructor(
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(Senders) private readonly senders: Senders,
    @multiInject(TemplateStatusListenerToken) @optional() private readonly listeners: TemplateStatusListener[] = [],
  ) {}

  /** Tells every listener, in binding order; a listener's error propagates so the webhook update is retried. */
  async notify(event: TemplateStatusEvent): Promise<void> {
    for (const listener of this.listeners) await listener.onTemplateStatus(event);
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

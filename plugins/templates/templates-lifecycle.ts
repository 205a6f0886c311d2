import { inject, injectable, type PluginLifecycle } from '../../core/index.js';
import { TemplateReviews } from '../whatsapp/public.js';
import { TemplateStatuses } from './services/template-statuses.js';

/** Listens to Meta's template-status webhooks, which the WhatsApp plugin receives and parses. */
@injectable()
export class TemplatesLifecycle implements PluginLifecycle {
  constructor(@inject(TemplateReviews) private readonly reviews: TemplateReviews, @inject(TemplateStatuses) private readonly statuses: TemplateStatuses) {}

  async start(): Promise<void> {
    this.reviews.onStatus((event) => this.statuses.fromProvider(event));
  }
}

/**
 * HTTP in and out of workflows: a webhook path per workflow (optionally HMAC-signed) and an
 * outbound request action with timeouts and retry classification.
 */
import type { Plugin } from '../../core/index.js';
import { HttpRequestAction, httpRequestInputSchema, httpRequestOutputSchema } from './actions/request.js';
import { WebhookRoutes } from './routes.js';
import { WebhookTrigger, webhookConfigSchema, webhookEventSchema } from './triggers/webhook.js';
import { WebhookPaths } from './webhook-paths.js';

const http: Plugin = {
  manifest: { id: 'http', version: '1.0.0', core: '^0.1.0', description: 'Inbound webhooks per workflow and outbound HTTP requests' },
  register(r) {
    r.bind(WebhookPaths).toSelf().inSingletonScope();
    r.trigger({ type: 'webhook', version: 1, impl: WebhookTrigger, summary: 'A POST to /hooks/<path>, optionally signed with HMAC-SHA256', config: webhookConfigSchema, event: webhookEventSchema });
    r.action({
      type: 'request', version: 1, impl: HttpRequestAction, summary: 'Calls an HTTP endpoint; 5xx, 429 and network errors are retried',
      idempotent: false, input: httpRequestInputSchema, output: httpRequestOutputSchema,
    });
    r.routes(WebhookRoutes);
  },
};
export default http;

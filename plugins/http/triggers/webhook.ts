import { CoreError, inject, injectable, type Dispose, type Trigger, type TriggerContext } from '../../../core/index.js';
import { WebhookPaths } from '../webhook-paths.js';

export const webhookConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'The workflow listens on POST /hooks/<path>' },
    secretEnv: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'Environment variable with the HMAC-SHA256 secret; requests then need X-Signature-256: sha256=<hex>' },
  },
} as const;

export const webhookEventSchema = {
  type: 'object',
  required: ['path', 'body', 'receivedAt'],
  properties: { path: { type: 'string' }, body: {}, query: { type: 'object' }, receivedAt: { type: 'string' } },
} as const;

/** `http.webhook@1`: binds the workflow's path while the workflow is active. */
@injectable()
export class WebhookTrigger implements Trigger<{ path: string; secretEnv?: string }> {
  constructor(@inject(WebhookPaths) private readonly paths: WebhookPaths) {}

  async activate(config: Readonly<{ path: string; secretEnv?: string }>, ctx: TriggerContext): Promise<Dispose> {
    const existing = this.paths.get(config.path);
    if (existing && existing.workflowId !== ctx.workflowId) {
      throw new CoreError('WEBHOOK_PATH_TAKEN', `Webhook path ${config.path} is already used by workflow ${existing.workflowId}`);
    }
    return this.paths.add(config.path, { workflowId: ctx.workflowId, ...(config.secretEnv ? { secretEnv: config.secretEnv } : {}), emit: ctx.emit });
  }
}

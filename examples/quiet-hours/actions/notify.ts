import { createHmac } from 'node:crypto';
import { inject, injectable, StepError, type Action, type ActionResult, type RunContext } from 'flowgate/sdk';
import { QuietHoursConfigToken, type QuietHoursConfig } from '../config.js';

export const notifyInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['event'],
  properties: {
    url: { type: 'string', pattern: '^https?://', description: 'Defaults to the plugin\'s notifyUrl' },
    event: { type: 'string', minLength: 1, maxLength: 100, description: 'What happened, e.g. quiet-hours.deferred' },
    data: { type: 'object', description: 'Sent as the notification\'s data' },
  },
} as const;

export const notifyOutputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'url'],
  properties: { status: { type: 'integer', description: 'HTTP status the receiver answered (0 in a dry run)' }, url: { type: 'string' } },
} as const;

type NotifyInput = { url?: string; event: string; data?: Record<string, unknown> };
type NotifyOutput = { status: number; url: string };

/**
 * `quiet-hours.notify@1`: posts `{event, data, idempotencyKey}` as JSON to a webhook. The body is
 * signed (`X-Flowgate-Signature: sha256=<HMAC of the body>`) when QUIET_HOURS_NOTIFY_SECRET is
 * set; `Idempotency-Key` lets the receiver drop a retried delivery. 5xx, 429 and network errors
 * are retried by the engine; other 4xx are not.
 */
@injectable()
export class NotifyAction implements Action<NotifyInput, NotifyOutput> {
  constructor(@inject(QuietHoursConfigToken) private readonly config: QuietHoursConfig) {}

  async execute(input: NotifyInput, ctx: RunContext): Promise<ActionResult<NotifyOutput>> {
    const url = input.url ?? this.config.notifyUrl;
    if (!url) throw new StepError('QUIET_HOURS_NO_URL', 'quiet-hours.notify@1 needs a url in its input or notifyUrl in the plugin settings');
    if (ctx.simulate) return { output: { status: 0, url } };
    const body = JSON.stringify({ event: input.event, data: input.data ?? {}, idempotencyKey: ctx.idempotencyKey });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey };
    if (this.config.notifySecret) headers['x-flowgate-signature'] = `sha256=${createHmac('sha256', this.config.notifySecret).update(body).digest('hex')}`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(this.config.notifyTimeoutMs)]) });
      await response.body?.cancel();
    } catch (error) {
      throw new StepError('QUIET_HOURS_NOTIFY_UNREACHABLE', `POST ${url} failed: ${(error as Error).message}`, true);
    }
    if (!response.ok) {
      throw new StepError('QUIET_HOURS_NOTIFY_STATUS', `POST ${url} answered ${response.status}`, response.status >= 500 || response.status === 429, { status: response.status });
    }
    return { output: { status: response.status, url } };
  }
}

import { injectable, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';

export const httpRequestInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://' },
    method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'POST' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    body: {},
    timeoutMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000 },
  },
} as const;

export const httpRequestOutputSchema = {
  type: 'object',
  required: ['status', 'body'],
  properties: { status: { type: 'integer' }, body: {}, headers: { type: 'object' } },
} as const;

type RequestInput = { url: string; method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number };
type RequestOutput = { status: number; body: unknown; headers: Record<string, string> };

const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * `http.request@1`. Sends `Idempotency-Key` (the step's key) so a receiver that honours it
 * ignores a retried request; 5xx, 429 and network failures are retryable, other 4xx are not.
 */
@injectable()
export class HttpRequestAction implements Action<RequestInput, RequestOutput> {
  async execute(input: RequestInput, ctx: RunContext): Promise<ActionResult<RequestOutput>> {
    const method = input.method ?? 'POST';
    if (ctx.simulate) return { output: { status: 0, body: { simulated: `${method} ${input.url}` }, headers: {} } };
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(input.timeoutMs ?? 10_000)]);
    let response: Response;
    try {
      response = await fetch(input.url, {
        method,
        headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey, ...(input.headers ?? {}) },
        ...(input.body !== undefined && method !== 'GET' ? { body: typeof input.body === 'string' ? input.body : JSON.stringify(input.body) } : {}),
        signal,
      });
    } catch (error) {
      throw new StepError('HTTP_UNREACHABLE', `${method} ${input.url} failed: ${(error as Error).message}`, true);
    }
    const text = (await response.text()).slice(0, MAX_RESPONSE_BYTES);
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* plain text stays text */ }
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 429;
      throw new StepError('HTTP_STATUS', `${method} ${input.url} answered ${response.status}`, retryable, { status: response.status, body });
    }
    return { output: { status: response.status, body, headers: Object.fromEntries(response.headers.entries()) } };
  }
}

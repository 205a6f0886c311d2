/**
 * The one allowed test double: a loopback HTTP server speaking the WhatsApp Cloud API's shapes
 * (reference/whatsapp.md §2). It records every request, answers like the Graph API, can be told
 * to fail with given error codes or to answer slowly, and posts signed status webhooks back to
 * Flowgate the way Meta does — sent → delivered → read, optionally out of order or twice.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { statusObject, statuses, unix, wamid } from './whatsapp-payloads.js';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Phone number id or WABA id from the path. */
  nodeId: string;
  edge: string;
  authorization?: string;
  body: Record<string, unknown>;
  at: Date;
}

export interface Failure {
  code: number;
  httpStatus?: number;
  message?: string;
  details?: string;
  /** How many requests fail this way (default 1). */
  times?: number;
}

export interface StatusScript {
  /** Statuses to post for every accepted message (default sent, delivered, read). */
  sequence?: Array<'sent' | 'delivered' | 'read' | 'played' | 'failed'>;
  /** `reversed` posts them last first; `shuffled` in random order. */
  order?: 'in-order' | 'reversed' | 'shuffled';
  /** Post every status twice, as Meta does when it retries. */
  duplicate?: boolean;
  /** For `failed`: the error. */
  error?: { code: number; title: string; details?: string };
  /** Pause between statuses. */
  gapMs?: number;
}

export interface WebhookTarget {
  url: string;
  appSecret: string;
  script?: StatusScript;
}

export class GraphApiDouble {
  readonly requests: RecordedRequest[] = [];
  /** Only accepted access tokens; empty accepts any. */
  acceptedTokens: string[] = [];
  /** Every request waits this long before it is answered (recorded on arrival, like an accepted but slow call). */
  delayMs = 0;
  webhook: WebhookTarget | null = null;
  /** Templates submitted, by the id the double gave them. */
  readonly templates = new Map<string, Record<string, unknown>>();
  /** The review status a new template is answered with (Meta approves some at once). */
  templateStatus = 'PENDING';
  /** Answer with this category instead of the one asked for (Meta may recategorise). */
  templateCategory: string | null = null;
  readonly webhookResults: number[] = [];
  private readonly failures: Failure[] = [];
  private server: Server | null = null;
  private readonly pending = new Set<Promise<unknown>>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the Graph API double is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    await this.settled();
    await new Promise<void>((resolve) => { this.server?.closeAllConnections(); this.server?.close(() => resolve()); });
  }

  /** The next request(s) fail with this Graph API error. */
  failNext(failure: Failure): void {
    this.failures.push({ times: 1, ...failure });
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
    this.webhookResults.length = 0;
    this.delayMs = 0;
    this.templates.clear();
    this.templateStatus = 'PENDING';
    this.templateCategory = null;
  }

  /** Message sends (not mark-read) received, in order. */
  get sends(): RecordedRequest[] {
    return this.requests.filter((r) => r.edge === 'messages' && r.body.status !== 'read');
  }

  /** Resolves when every status webhook the double started posting has been answered. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Signs and posts a webhook body to Flowgate like Meta does; returns the HTTP status. */
  async postWebhook(payload: unknown, target = this.webhook): Promise<number> {
    if (!target) throw new Error('no webhook target');
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', target.appSecret).update(body).digest('hex')}`;
    const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
    await response.arrayBuffer();
    this.webhookResults.push(response.status);
    return response.status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/(v\d+\.\d+)\/(\d+)(?:\/(messages|message_templates))?$/.exec(req.url ?? '');
    let body: Record<string, unknown> = {};
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>; } catch { return reply(res, 400, graphError(100, 'Invalid parameter', 'Request body is not JSON')); }
    if (req.method !== 'POST' || !match) return reply(res, 400, graphError(100, 'Unsupported post request', `Unknown path ${req.url}`));
    const recorded: RecordedRequest = { method: req.method, path: req.url ?? '', nodeId: match[2] as string, edge: match[3] ?? '', authorization: req.headers.authorization, body, at: new Date() };
    this.requests.push(recorded);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (res.destroyed) return;
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (this.acceptedTokens.length && !this.acceptedTokens.includes(token)) return reply(res, 401, graphError(190, 'Invalid OAuth access token - Cannot parse access token', undefined, 'OAuthException'));
    const failure = this.failures[0];
    if (failure) {
      if (--(failure.times as number) <= 0) this.failures.shift();
      return reply(res, failure.httpStatus ?? 400, graphError(failure.code, failure.message ?? `(#${failure.code}) Error`, failure.details));
    }
    if (recorded.edge === 'message_templates') {
      const problem = checkTemplate(body);
      if (problem) return reply(res, 400, graphError(100, 'Invalid parameter', problem));
      const id = String(BigInt(`0x${randomBytes(6).toString('hex')}`));
      this.templates.set(id, body);
      return reply(res, 200, { id, status: this.templateStatus, category: this.templateCategory ?? body.category });
    }
    if (recorded.edge === '') {
      // Editing a template: POST /<TEMPLATE_ID> with new components.
      if (!this.templates.has(recorded.nodeId)) return reply(res, 400, graphError(100, 'Invalid parameter', `Template ${recorded.nodeId} does not exist`));
      if (!Array.isArray(body.components)) return reply(res, 400, graphError(100, 'Invalid parameter', 'components is required'));
      this.templates.set(recorded.nodeId, { ...this.templates.get(recorded.nodeId), ...body });
      return reply(res, 200, { success: true });
    }
    if (body.messaging_product !== 'whatsapp') return reply(res, 400, graphError(100, 'Invalid parameter', 'messaging_product must be whatsapp'));
    if (body.status === 'read') {
      if (typeof body.message_id !== 'string') return reply(res, 400, graphError(100, 'Invalid parameter', 'message_id is required'));
      return reply(res, 200, { success: true });
    }
    const type = body.type as string;
    const problem = checkMessage(body);
    if (problem) return reply(res, 400, graphError(131009, 'Parameter value is not valid', problem));
    const id = wamid();
    const to = String(body.to ?? body.recipient ?? '');
    reply(res, 200, {
      messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to.replace(/\D/g, '') }],
      messages: [{ id, ...(type === 'template' ? { message_status: 'accepted' } : {}) }],
    });
    if (this.webhook) this.track(this.postStatuses(id, to.replace(/\D/g, ''), body.biz_opaque_callback_data as string | undefined, this.webhook));
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async postStatuses(id: string, recipientId: string, callbackData: string | undefined, target: WebhookTarget): Promise<void> {
    const script = target.script ?? {};
    let sequence = [...(script.sequence ?? ['sent', 'delivered', 'read'])];
    if (script.order === 'reversed') sequence.reverse();
    if (script.order === 'shuffled') sequence = sequence.sort(() => Math.random() - 0.5);
    const base = Math.floor(Date.now() / 1000);
    // Timestamps follow the real order whatever the posting order, as Meta's would.
    const natural = ['sent', 'delivered', 'read', 'played', 'failed'];
    for (const status of sequence.flatMap((s) => (script.duplicate ? [s, s] : [s]))) {
      if (script.gapMs) await new Promise((r) => setTimeout(r, script.gapMs));
      const timestamp = unix(new Date((base + natural.indexOf(status) * 2) * 1000));
      const errors = status === 'failed' ? [{ code: script.error?.code ?? 131026, title: script.error?.title ?? 'Message undeliverable', error_data: { details: script.error?.details ?? 'Message Undeliverable.' } }] : undefined;
      await this.postWebhook(statuses([statusObject(id, status, { recipientId, timestamp, callbackData, errors })]), target);
    }
  }
}

/** Checks the template-creation shape (reference §4): name, language, category and a BODY. */
function checkTemplate(body: Record<string, unknown>): string | null {
  if (typeof body.name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(body.name)) return 'name must be lowercase letters, digits and underscores';
  if (typeof body.language !== 'string') return 'language is required';
  if (!['MARKETING', 'UTILITY', 'AUTHENTICATION'].includes(String(body.category).toUpperCase())) return 'category must be MARKETING, UTILITY or AUTHENTICATION';
  const components = Array.isArray(body.components) ? body.components as Array<{ type?: string }> : [];
  return components.some((c) => c.type === 'BODY') ? null : 'components must include a BODY';
}

/** Checks the message shapes the Graph API requires (reference §2). */
function checkMessage(body: Record<string, unknown>): string | null {
  if (typeof body.to !== 'string' && typeof body.recipient !== 'string') return 'to or recipient is required';
  const type = body.type;
  const content = body[type as string] as Record<string, unknown> | undefined;
  if (!content) return `${String(type)} object is required`;
  if (type === 'text') return typeof content.body === 'string' && content.body.length <= 4096 ? null : 'text.body must be 1..4096 characters';
  if (type === 'template') return typeof content.name === 'string' && typeof (content.language as { code?: unknown } | undefined)?.code === 'string' ? null : 'template.name and template.language.code are required';
  if (type === 'interactive') return (content.action as { buttons?: unknown[] } | undefined)?.buttons?.length ? null : 'interactive.action.buttons is required';
  return `unsupported type ${String(type)}`;
}

function graphError(code: number, message: string, details?: string, type = 'OAuthException'): Record<string, unknown> {
  return { error: { message, type, code, ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}), fbtrace_id: randomBytes(9).toString('base64url') } };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

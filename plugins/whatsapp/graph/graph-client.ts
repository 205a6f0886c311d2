/**
 * A Graph API client for one sender (`phone_number_id`). Connections are kept alive and pooled per
 * sender; every call has a timeout. Answers are typed results, never exceptions, so callers can
 * tell "Meta refused" (with a retry decision) from "we do not know whether Meta accepted it".
 */
import http from 'node:http';
import https from 'node:https';
import { classifyProviderError, type ProviderError } from './provider-errors.js';

/** Body of `POST /<version>/<PHONE_NUMBER_ID>/messages` for a message (reference §2). */
export type OutboundPayload =
  | { type: 'text'; text: { body: string; preview_url?: boolean } }
  | { type: 'template'; template: { name: string; language: { code: string }; components?: unknown[] } }
  | { type: 'interactive'; interactive: Record<string, unknown> };

export interface SendOptions {
  /** E.164 with or without `+`; a business-scoped user id goes in `recipient` instead. */
  to?: string;
  recipient?: string;
  /** Reply context: the wamid being answered. */
  replyTo?: string;
  /** Echoed by Meta in every status webhook of this message; Flowgate puts its message id here. */
  callbackData?: string;
  signal?: AbortSignal;
}

export interface SendAccepted {
  providerMessageId: string;
  waId?: string;
  /** `accepted` / `held_for_quality_assessment` / `paused`, for paced templates only. */
  messageStatus?: string;
}

export type GraphResult<T> =
  | { ok: true; value: T }
  /** `rejected`: Meta (or the network before sending) refused it. `unknown`: it may have been accepted. */
  | { ok: false; outcome: 'rejected' | 'unknown'; error: ProviderError };

export interface GraphClientOptions {
  apiUrl: string;
  apiVersion: string;
  phoneNumberId: string;
  accessToken: string;
  timeoutMs: number;
  maxSockets: number;
}

export class GraphClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(private readonly options: GraphClientOptions) {
    this.base = new URL(options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets, keepAliveMsecs: 30_000 });
  }

  get phoneNumberId(): string {
    return this.options.phoneNumberId;
  }

  /** Sends one message. Resolves with Meta's acceptance (not delivery: that comes by webhook). */
  async send(payload: OutboundPayload, options: SendOptions): Promise<GraphResult<SendAccepted>> {
    const body: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...(options.to ? { to: options.to } : {}),
      ...(options.recipient ? { recipient: options.recipient } : {}),
      ...(options.replyTo ? { context: { message_id: options.replyTo } } : {}),
      ...(options.callbackData ? { biz_opaque_callback_data: options.callbackData } : {}),
      ...payload,
    };
    const result = await this.call(`${this.options.phoneNumberId}/messages`, body, options.signal);
    if (!result.ok) return result;
    const answer = result.value as { contacts?: Array<{ wa_id?: string }>; messages?: Array<{ id?: string; message_status?: string }> };
    const id = answer.messages?.[0]?.id;
    if (typeof id !== 'string') {
      return { ok: false, outcome: 'unknown', error: classifyProviderError({ details: 'The Graph API answered without a message id' }) };
    }
    return { ok: true, value: { providerMessageId: id, waId: answer.contacts?.[0]?.wa_id, messageStatus: answer.messages?.[0]?.message_status } };
  }

  /** Marks an inbound message read (blue ticks). */
  async markRead(providerMessageId: string, signal?: AbortSignal): Promise<GraphResult<{ success: boolean }>> {
    const result = await this.call(`${this.options.phoneNumberId}/messages`, { messaging_product: 'whatsapp', status: 'read', message_id: providerMessageId }, signal);
    return result.ok ? { ok: true, value: { success: (result.value as { success?: boolean }).success === true } } : result;
  }

  /** Submits a template for review on the business account; approval comes by webhook. */
  async submitTemplate(businessAccountId: string, template: { name: string; language: string; category: string; components: unknown[] }, signal?: AbortSignal): Promise<GraphResult<{ id: string; status: string; category: string }>> {
    const result = await this.call(`${businessAccountId}/message_templates`, template, signal);
    return result.ok ? { ok: true, value: result.value as { id: string; status: string; category: string } } : result;
  }

  /** Edits a submitted template (`POST /<TEMPLATE_ID>`); the edit goes back to review. */
  async editTemplate(templateId: string, template: { category?: string; components: unknown[] }, signal?: AbortSignal): Promise<GraphResult<{ success: boolean }>> {
    const result = await this.call(templateId, template, signal);
    return result.ok ? { ok: true, value: { success: (result.value as { success?: boolean }).success === true } } : result;
  }

  close(): void {
    this.agent.destroy();
  }

  private call(path: string, body: unknown, signal?: AbortSignal, retriedStaleConnection = false): Promise<GraphResult<unknown>> {
    const url = new URL(`${this.options.apiVersion}/${path}`, this.base);
    const data = Buffer.from(JSON.stringify(body));
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: GraphResult<unknown>) => { if (!settled) { settled = true; resolve(result); } };
      const request = transport.request(url, {
        method: 'POST',
        agent: this.agent,
        timeout: this.options.timeoutMs,
        signal,
        headers: { authorization: `Bearer ${this.options.accessToken}`, 'content-type': 'application/json', 'content-length': data.length },
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', () => finish(unknown('The connection broke while reading the answer', 'network')));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          let parsed: unknown;
          try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { parsed = undefined; }
          if (status >= 200 && status < 300 && parsed !== undefined) return finish({ ok: true, value: parsed });
          const error = (parsed as { error?: { code?: number; message?: string; error_data?: { details?: string }; fbtrace_id?: string } } | undefined)?.error;
          finish({
            ok: false,
            // A 5xx without an error object may come from a proxy after Meta accepted the message.
            outcome: !error && status >= 500 ? 'unknown' : 'rejected',
            error: classifyProviderError({ code: error?.code, message: error?.message, details: error?.error_data?.details, httpStatus: status, fbtraceId: error?.fbtrace_id }),
          });
        });
      });
      // The request was written and no answer came in time: Meta may or may not have the message.
      request.on('timeout', () => { finish(unknown(`No answer within ${this.options.timeoutMs} ms`, 'timeout')); request.destroy(); });
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.name === 'AbortError') return finish(unknown('The call was aborted', 'timeout'));
        // An idle kept-alive connection the server closed just as this request went out on it: the
        // server had stopped reading it, so the request was not taken (Node's documented case for
        // a retry). Once; any other reset may have reached Meta and stays unknown.
        if (!retriedStaleConnection && !settled && request.reusedSocket && error.code === 'ECONNRESET') {
          settled = true;
          resolve(this.call(path, body, signal, true));
          return;
        }
        const neverSent = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN)$/.test(error.code ?? '');
        finish(neverSent
          ? { ok: false, outcome: 'rejected', error: { code: 0, category: 'provider-unavailable', retryable: true, reason: `Graph API unreachable (${error.code})` } }
          : unknown(`Connection failed (${error.code ?? error.message})`, 'network'));
      });
      request.end(data);
    });
  }
}

function unknown(reason: string, category: 'timeout' | 'network'): GraphResult<never> {
  return { ok: false, outcome: 'unknown', error: { code: 0, category, retryable: true, reason } };
}

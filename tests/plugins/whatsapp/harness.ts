/** Boots Flowgate with the WhatsApp plugin against the Graph API double. */
import { createHmac } from 'node:crypto';
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { eventually, startTestServer, type TestServer } from '../../helpers/test-host.js';

export const APP_SECRET = 'test-app-secret-3f9a';
export const VERIFY_TOKEN = 'test-verify-token-77';
export const ACCESS_TOKEN = 'EAAtesttoken';

export interface WhatsappHarness {
  t: TestServer;
  graph: GraphApiDouble;
  /** Posts a body to the webhook, signed with the app secret unless `signature` is given. */
  post(payload: unknown, options?: { signature?: string | null; raw?: string | Buffer }): Promise<{ status: number; body: unknown }>;
  /** Posts and waits until every stored update is processed. */
  deliver(payload: unknown): Promise<{ status: number; body: unknown }>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function sign(body: string | Buffer, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function startWhatsapp(label: string, settings: Record<string, unknown> = {}, options: { mongodbUri?: string; graph?: GraphApiDouble } = {}): Promise<WhatsappHarness> {
  const graph = options.graph ?? new GraphApiDouble();
  if (!options.graph) await graph.start();
  graph.acceptedTokens = [ACCESS_TOKEN];
  Object.assign(process.env, {
    WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url,
  });
  const boot = (mongodbUri?: string) => startTestServer({
    label, plugins: ['whatsapp'], mongodbUri,
    // Only the plugin's own policy: consent and rate limits (on by default) are not loaded here.
    pluginSettings: { whatsapp: { requestTimeoutMs: 400, retry: { baseDelayMs: 1000, maxDelayMs: 60000, maxAttempts: 3 }, sendPolicies: ['whatsapp.window@1'], ...settings } },
  });
  let t = await boot(options.mongodbUri);
  graph.webhook = { url: `${t.url}/webhooks/whatsapp`, appSecret: APP_SECRET };
  const harness: WhatsappHarness = {
    get t() { return t; },
    graph,
    async post(payload, opts = {}) {
      const raw = opts.raw ?? JSON.stringify(payload);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.signature !== null) headers['x-hub-signature-256'] = opts.signature ?? sign(raw);
      const response = await t.request('post', '/webhooks/whatsapp', { rawBody: raw, headers });
      return { status: response.status, body: response.body };
    },
    async deliver(payload) {
      const result = await harness.post(payload);
      await processed(t);
      return result;
    },
    async restart() {
      const uri = t.mongodbUri;
      await t.stop();
      t = await boot(uri);
      graph.webhook = { url: `${t.url}/webhooks/whatsapp`, appSecret: APP_SECRET };
    },
    async stop() {
      await graph.settled();
      await t.stop();
      if (!options.graph) await graph.stop();
    },
  };
  return harness;
}

/** Waits until the server has processed every webhook update it stored. */
export async function processed(t: TestServer): Promise<void> {
  const { InboundProcessor } = await import('../../../plugins/whatsapp/services/inbound-processor.js');
  await t.server.get(InboundProcessor).idle();
}

export { eventually };

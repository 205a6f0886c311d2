/** Boots Flowgate with the flow, WhatsApp and consent plugins (and the shipped workflows) against the Graph API double. */
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';
import { ACCESS_TOKEN, APP_SECRET, processed, sign, VERIFY_TOKEN } from '../whatsapp/harness.js';

export const ERASURE_KEY = 'test-erasure-key-0123456789';

export interface ConsentHarness {
  t: TestServer;
  graph: GraphApiDouble;
  /** Posts a signed webhook and waits until the server processed it. */
  deliver(payload: unknown): Promise<number>;
  stop(): Promise<void>;
}

export async function startConsent(label: string, settings: Record<string, unknown> = {}): Promise<ConsentHarness> {
  const graph = new GraphApiDouble();
  await graph.start();
  graph.acceptedTokens = [ACCESS_TOKEN];
  Object.assign(process.env, {
    WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url, CONSENT_ERASURE_KEY: ERASURE_KEY,
  });
  const t = await startTestServer({
    label, plugins: ['audit', 'flow', 'whatsapp', 'consent'],
    pluginSettings: { whatsapp: { requestTimeoutMs: 2000, sendPolicies: ['consent.not-blocked@1', 'consent.required@1', 'whatsapp.window@1'] }, consent: settings },
  });
  graph.webhook = { url: `${t.url}/webhooks/whatsapp`, appSecret: APP_SECRET };
  return {
    t, graph,
    async deliver(payload) {
      const raw = JSON.stringify(payload);
      const response = await t.request('post', '/webhooks/whatsapp', { rawBody: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) } });
      await processed(t);
      return response.status;
    },
    async stop() {
      await graph.settled();
      await t.stop();
      await graph.stop();
    },
  };
}

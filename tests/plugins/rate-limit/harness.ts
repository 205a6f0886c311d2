/**
 * Boots Flowgate with the WhatsApp, consent, audit and rate-limit plugins against the Graph API
 * double, with windows of seconds instead of hours so that deferred sends go out within a test.
 */
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';
import { ACCESS_TOKEN, APP_SECRET, processed, sign, VERIFY_TOKEN } from '../whatsapp/harness.js';

/** Windows short enough for tests; each test file may override them. */
export const SHORT_WINDOWS = { secondMs: 1000, hourMs: 2500, dayMs: 4000, messagingMs: 3000 };

export interface RateHarness {
  t: TestServer;
  graph: GraphApiDouble;
  /** Posts a signed webhook and waits until the server processed it. */
  deliver(payload: unknown): Promise<void>;
  stop(): Promise<void>;
}

export function whatsappEnvironment(graph: GraphApiDouble): Record<string, string> {
  return {
    WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url,
  };
}

export async function startRate(
  label: string, settings: { rate?: Record<string, unknown>; whatsapp?: Record<string, unknown> } = {}, plugins = ['audit', 'whatsapp', 'consent', 'rate-limit'],
): Promise<RateHarness> {
  const graph = new GraphApiDouble();
  await graph.start();
  graph.acceptedTokens = [ACCESS_TOKEN];
  Object.assign(process.env, whatsappEnvironment(graph));
  const t = await startTestServer({
    label, plugins,
    pluginSettings: {
      whatsapp: { requestTimeoutMs: 2000, sendPolicies: ['rate.limit@1'], ...settings.whatsapp },
      rate: { windows: SHORT_WINDOWS, pausedRecheckMs: 300, backoff: { baseMs: 1000, maxMs: 4000, resetAfterMs: 10000 }, ...settings.rate },
    },
  });
  return {
    t, graph,
    async deliver(payload) {
      const raw = JSON.stringify(payload);
      await t.request('post', '/webhooks/whatsapp', { rawBody: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) } });
      await processed(t);
    },
    async stop() {
      await graph.settled();
      await t.stop();
      await graph.stop();
    },
  };
}

let counter = 0;
/** A recipient number no other test uses. */
export const newPhone = (): string => `4478${String(process.pid).slice(-3)}${String(Date.now()).slice(-4)}${String(counter++).padStart(3, '0')}`;

/** A template message body for POST /api/messages (templates may go outside a service window). */
export const template = (to: string, from?: string) => ({ to, ...(from ? { from } : {}), template: { name: 'order_update', language: 'en_US' } });

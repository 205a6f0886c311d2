/**
 * Boots Flowgate with the WhatsApp and templates plugins (plus audit and flow) against the Graph
 * API double, with `template.approved@1` as the only send policy so its decisions are the ones seen.
 */
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { PHONE_NUMBER_ID, WABA_ID } from '../../doubles/whatsapp-payloads.js';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';
import { ACCESS_TOKEN, APP_SECRET, processed, VERIFY_TOKEN } from '../whatsapp/harness.js';

export interface TemplatesHarness {
  t: TestServer;
  graph: GraphApiDouble;
  /** Posts a signed webhook as Meta would (through the double) and waits until the server processed it. */
  deliver(payload: unknown): Promise<number>;
  /** Stops the server and starts a new one on the same database (`t` then is the new one). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** `settings` are the template plugin's; `businessAccount: false` leaves WHATSAPP_BUSINESS_ACCOUNT_ID unset. */
export async function startTemplates(label: string, settings: Record<string, unknown> = {}, options: { businessAccount?: boolean } = {}): Promise<TemplatesHarness> {
  const graph = new GraphApiDouble();
  await graph.start();
  graph.acceptedTokens = [ACCESS_TOKEN];
  Object.assign(process.env, {
    WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url,
  });
  const boot = async (mongodbUri?: string): Promise<TestServer> => {
    // Set only while booting, so other test files see the environment they expect.
    if (options.businessAccount !== false) process.env.WHATSAPP_BUSINESS_ACCOUNT_ID = WABA_ID;
    try {
      const server = await startTestServer({
        label, plugins: ['audit', 'flow', 'whatsapp', 'templates'], mongodbUri,
        pluginSettings: { whatsapp: { requestTimeoutMs: 2000, sendPolicies: ['template.approved@1'] }, template: settings },
      });
      graph.webhook = { url: `${server.url}/webhooks/whatsapp`, appSecret: APP_SECRET };
      return server;
    } finally {
      delete process.env.WHATSAPP_BUSINESS_ACCOUNT_ID;
    }
  };
  let t = await boot();
  return {
    get t() { return t; },
    graph,
    async deliver(payload) {
      const status = await graph.postWebhook(payload);
      await processed(t);
      return status;
    },
    async restart() {
      await t.stop();
      t = await boot(t.mongodbUri);
    },
    async stop() {
      await graph.settled();
      await Promise.all([t.stop(), graph.stop()]);
    },
  };
}

/** A valid utility template with a text header, a body with two positional variables, a footer and buttons. */
export function orderTemplate(name = 'order_update', over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, language: 'en_US', category: 'UTILITY',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
      { type: 'BODY', text: 'Hi {{1}}, your order {{2}} has shipped.' },
      { type: 'FOOTER', text: 'Reply STOP to opt out' },
      { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' }, { type: 'QUICK_REPLY', text: 'Thanks' }] },
    ],
    variables: { header: ['#1042'], body: ['Jessica', '#1042'], buttons: { 0: '1042' } },
    ...over,
  };
}

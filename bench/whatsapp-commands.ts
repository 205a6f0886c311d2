/**
 * How many MongoDB commands the WhatsApp plugin spends per STOP flow: boots one in-process server
 * (audit, flow, whatsapp, consent and the shipped `stop-keyword` workflow) on the database of
 * MONGODB_URI, posts signed STOP webhooks one after another and, once each reply reached the
 * Graph API double and its send was recorded, prints the commands each flow cost by collection,
 * command and filter shape ("by _id": served from FerretDB's index; "scan {keys}": not).
 * A count, not a timing: the same on a loaded machine.
 *
 *   node dist/scripts/with-services.js -- node dist/bench/whatsapp-commands.js [flows=20]
 *
 * Phase "new": each STOP from a customer never seen before (the benchmark's case);
 * phase "known": the same customers write STOP again (their contact exists); then once more with
 * the Graph API double posting each reply's sent, delivered and read statuses back.
 * SHOW_ALL=1 lists the other collections' commands too.
 */
import { MongoClient, type CommandStartedEvent, type CommandSucceededEvent } from 'mongodb';
import { GraphApiDouble } from '../tests/doubles/graph-api.js';
import { inboundText, PHONE_NUMBER_ID } from '../tests/doubles/whatsapp-payloads.js';
import { sign } from '../tests/plugins/whatsapp/harness.js';
import { eventually, startTestServer } from '../tests/helpers/test-host.js';

const FLOWS = Number(process.argv[2] ?? 20);
const KEY = 'bench-key-0123456789abcdef0123456789abcdef';
const APP_SECRET = 'count-app-secret';
const IGNORED = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions', 'buildInfo', 'getMore', 'killCursors', 'listIndexes', 'createIndexes']);

const counts = new Map<string, number>();
let counting = false;

/** "by _id" when the filter is `_id` equality alone, else the keys FerretDB has to scan for. */
function shape(filter: unknown): string {
  if (!filter || typeof filter !== 'object') return '';
  const keys = Object.keys(filter);
  const id = (filter as Record<string, unknown>)._id;
  const plainId = id !== undefined && (typeof id !== 'object' || id === null || !Object.keys(id).some((k) => k.startsWith('$')) || Object.keys(id).join() === '$eq');
  return keys.length === 1 && plainId ? ' by _id' : ` scan {${keys.join(',')}}`;
}

function filterOf(event: CommandStartedEvent): unknown {
  const c = event.command as Record<string, unknown>;
  switch (event.commandName) {
    case 'find': case 'count': return c.filter ?? c.query;
    case 'findAndModify': return c.query;
    case 'update': return (c.updates as Array<{ q: unknown }>)[0]?.q;
    case 'delete': return (c.deletes as Array<{ q: unknown }>)[0]?.q;
    default: return undefined;
  }
}

const connect = MongoClient.prototype.connect;
MongoClient.prototype.connect = function patched(this: MongoClient) {
  if (counting) {
    (this as unknown as { monitorCommands: boolean }).monitorCommands = true;
    const started = new Map<number, string>();
    this.on('commandStarted', (event: CommandStartedEvent) => {
      if (IGNORED.has(event.commandName)) return;
      const collection = event.command[event.commandName] as unknown;
      started.set(event.requestId, `${typeof collection === 'string' ? collection : '-'}.${event.commandName}${shape(filterOf(event))}`);
    });
    this.on('commandSucceeded', (event: CommandSucceededEvent) => {
      const key = started.get(event.requestId);
      if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
      started.delete(event.requestId);
    });
    this.on('commandFailed', (event) => {
      const key = started.get(event.requestId);
      if (key) counts.set(`${key} (failed)`, (counts.get(`${key} (failed)`) ?? 0) + 1);
      started.delete(event.requestId);
    });
  }
  return connect.call(this) as ReturnType<MongoClient['connect']>;
} as MongoClient['connect'];

async function main(): Promise<void> {
  const graph = new GraphApiDouble();
  await graph.start();
  graph.acceptedTokens = ['count-token'];
  Object.assign(process.env, {
    WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: 'count', WHATSAPP_ACCESS_TOKEN: 'count-token', WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url,
    CONSENT_ERASURE_KEY: KEY, FLOWGATE_AUDIT_PSEUDONYM_KEY: KEY, FLOWGATE_AUDIT_SIGNING_KEY: KEY,
  });
  counting = true;
  const t = await startTestServer({ label: 'wacount', plugins: ['audit', 'flow', 'whatsapp', 'consent'], config: { log: { level: 'error' }, workflows: { watch: false } } });
  counting = false;
  const checker = new MongoClient(t.mongodbUri);
  const outbound = checker.db().collection('whatsappmessages');
  const phones = Array.from({ length: FLOWS }, (_, i) => `4477${String(i).padStart(7, '0')}`);
  const phase = async (name: string, settled: Record<string, unknown> = { status: 'accepted' }) => {
    counts.clear();
    let expected = 0;
    const started = new Date();
    const done = () => outbound.countDocuments({ direction: 'outbound', createdAt: { $gte: started }, ...settled });
    for (const phone of phones) {
      expected++;
      const raw = JSON.stringify(inboundText('STOP', { from: phone }).payload);
      const response = await t.request('post', '/webhooks/whatsapp', { rawBody: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw, APP_SECRET) } });
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${response.text}`);
      // One flow at a time: the count per flow is then exact, whatever the engine batches.
      await eventually(async () => await done() >= expected, 30_000, 20);
      await graph.settled();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
    const per = (n: number) => (n / FLOWS).toFixed(2);
    const whatsapp = rows.filter(([key]) => key.startsWith('whatsapp'));
    console.log(`\n${name}: ${FLOWS} STOP flows, MongoDB commands per flow`);
    for (const [key, n] of whatsapp) console.log(`  ${per(n).padStart(6)}  ${key}`);
    const sum = (list: Array<[string, number]>) => list.reduce((s, [, n]) => s + n, 0);
    console.log(`  ${per(sum(whatsapp)).padStart(6)}  whatsapp* total`);
    console.log(`  ${per(sum(rows) - sum(whatsapp)).padStart(6)}  other collections (engine, consent, audit…)${process.env.SHOW_ALL ? ':' : ''}`);
    if (process.env.SHOW_ALL) for (const [key, n] of rows.filter(([k]) => !k.startsWith('whatsapp'))) console.log(`  ${per(n).padStart(6)}    ${key}`);
    console.log(`  ${per(sum(rows)).padStart(6)}  all`);
  };
  try {
    await phase('new customers');
    await phase('known customers');
    // Meta's statuses of each reply (sent, delivered, read) posted back as signed webhooks.
    graph.webhook = { url: `${t.url}/webhooks/whatsapp`, appSecret: APP_SECRET };
    await phase('known customers, with the reply\'s sent, delivered and read status webhooks', { status: 'read' });
    if (graph.requests.filter((r) => r.edge === 'messages').length !== 3 * FLOWS) throw new Error(`expected ${3 * FLOWS} replies at the double, saw ${graph.requests.length}`);
  } finally {
    await checker.close();
    await t.stop();
    await graph.stop();
  }
}

await main();

/**
 * The in-run baseline of bench/stop-flow.ts: the STOP flow written by hand with express,
 * mongoose and socket.io, no workflow engine. It does the durable work the shipped
 * `stop-keyword` workflow does, one write each, on the same kind of connection (MongoDB URI
 * from the environment, one connection on FerretDB like Flowgate):
 *
 *   ack path:  HMAC check, insert the webhook update, answer 200;
 *   after it:  insert the inbound message, insert the consent change, set the consent state,
 *              insert the audit entry (sequence number from Redis), publish `consent.changed`
 *              and `audit.entry`, send the confirmation through the Graph API and insert the
 *              outbound message, mark the update processed.
 *
 * It keeps no execution record, no step trail, no contact directory and no idempotency beyond
 * the update's `_id`: what Flowgate adds on top is what the benchmark prices.
 * Started as a child process: PORT, MONGODB_URI, REDIS_URL, APP_SECRET, GRAPH_URL.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import mongoose, { Schema } from 'mongoose';
import { Server } from 'socket.io';
import { consentConfigSchema } from '../../plugins/consent/config.js';
import { classifyKeyword, type KeywordLists } from '../../plugins/consent/keywords.js';

const setting = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const [PORT, MONGODB_URI, REDIS_URL, APP_SECRET, GRAPH_URL] = ['PORT', 'MONGODB_URI', 'REDIS_URL', 'APP_SECRET', 'GRAPH_URL'].map(setting) as [string, string, string, string, string];
const PROCESS_CONCURRENCY = 8; // the whatsapp plugin's default processConcurrency
const { properties } = consentConfigSchema.properties.keywords;
const lists = { optOut: properties.optOut.default, optIn: properties.optIn.default, help: properties.help.default } as unknown as KeywordLists;

type Doc = Record<string, unknown>;
const loose = (name: string) => new Schema<Doc>({ _id: String }, { strict: false, versionKey: false, collection: name });
const connection = await mongoose.createConnection(MONGODB_URI, { autoIndex: false }).asPromise();
const Updates = connection.model<Doc>('Update', loose('hand_updates'));
const Messages = connection.model<Doc>('Message', loose('hand_messages'));
const Changes = connection.model<Doc>('Change', loose('hand_consent_changes'));
const Records = connection.model<Doc>('Record', loose('hand_consent_records'));
const Audit = connection.model<Doc>('Audit', loose('hand_audit'));
const redis = new Redis(REDIS_URL);
const sequenceKey = `hand:${randomUUID()}:seq`;

const app = express();
const server = createServer(app);
const io = new Server(server, { serveClient: false });
io.on('connection', (socket) => {
  socket.on('subscribe', (topics: string[], ack?: (r: unknown) => void) => {
    for (const topic of topics) void socket.join(topic);
    ack?.({ subscribed: topics, denied: [] });
  });
});

const queue: Array<Record<string, unknown>> = [];
let active = 0;

async function processUpdate(update: Record<string, unknown>): Promise<void> {
  const message = update.message as { from: string; id: string; timestamp: string; text?: { body?: string } };
  const text = message.text?.body ?? null;
  const at = new Date(Number(message.timestamp) * 1000);
  await Messages.create({ _id: `in:${message.id}`, direction: 'inbound', phone: message.from, text, providerMessageId: message.id, status: 'received', createdAt: at });
  if (classifyKeyword(text, lists).classification === 'opt-out') {
    const changeId = randomUUID();
    const evidence = { messageId: message.id, text, actor: 'handwritten' };
    await Changes.create({ _id: changeId, phone: message.from, idempotencyKey: `${message.id}:revoke`, state: 'opted_out', source: 'keyword', evidence, at, recordedAt: new Date() });
    await Records.updateOne({ _id: message.from }, { $set: { state: 'opted_out', source: 'keyword', evidence, changedAt: at, basedOn: changeId, updatedAt: new Date() } }, { upsert: true });
    io.to('consent').emit('consent.changed', { topic: 'consent', event: 'consent.changed', phone: message.from, state: 'opted_out', source: 'keyword', evidence, changeId });
    const seq = await redis.incr(sequenceKey);
    const entry = { _id: randomUUID(), seq, at: new Date(), actor: { kind: 'workflow', id: 'handwritten' }, action: 'consent.revoked', resource: { type: 'consent', id: changeId }, details: { source: 'keyword', messageId: message.id } };
    await Audit.create(entry);
    io.to('audit').emit('audit.entry', { topic: 'audit', event: 'audit.entry', ...entry });
    const response = await fetch(`${GRAPH_URL}/v25.0/106540352242922/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify({ messaging_product: 'whatsapp', to: message.from, type: 'text', context: { message_id: message.id }, text: { body: 'You will no longer receive marketing messages from us. Reply START to subscribe again.' } }),
    });
    const sent = await response.json() as { messages?: Array<{ id: string }> };
    await Messages.create({ _id: `out:${sent.messages?.[0]?.id ?? randomUUID()}`, direction: 'outbound', phone: message.from, status: 'accepted', createdAt: new Date() });
  }
  await Updates.updateOne({ _id: update._id }, { $set: { state: 'processed', processedAt: new Date() } });
}

function pump(): void {
  while (active < PROCESS_CONCURRENCY && queue.length) {
    const update = queue.shift() as Record<string, unknown>;
    active++;
    void processUpdate(update).catch((error: Error) => console.error('handwritten: processing failed', error.message)).finally(() => { active--; pump(); });
  }
}

app.post('/webhooks/whatsapp', express.raw({ type: 'application/json', limit: '3mb' }), async (req, res) => {
  const raw = req.body as Buffer;
  const expected = Buffer.from(`sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`);
  const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.status(401).json({ error: 'bad signature' });
  const body = JSON.parse(raw.toString('utf8')) as { entry: Array<{ changes: Array<{ value: { messages?: Array<Record<string, unknown>>; contacts?: unknown[] } }> }> };
  const updates = body.entry.flatMap((e) => e.changes.flatMap((c) => (c.value.messages ?? []).map((m) => ({ _id: `message:${String(m.id)}`, state: 'stored', message: m, receivedAt: new Date() }))));
  try {
    await Updates.insertMany(updates, { ordered: false });
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) return void res.status(500).json({ error: (error as Error).message });
  }
  res.status(200).json({ received: updates.length, stored: updates.length, duplicates: 0 });
  queue.push(...updates);
  pump();
});

server.listen(Number(PORT), '127.0.0.1', () => console.error(`handwritten STOP handler on ${PORT}`));
process.once('SIGTERM', () => {
  io.close();
  server.close();
  void Promise.all([connection.close(), redis.quit()]).finally(() => process.exit(0));
});

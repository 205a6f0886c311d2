/**
 * Three (or more) real Flowgate processes on one MongoDB-protocol database and one Redis, with
 * the WhatsApp Graph API double, the way an operator scales out: same configuration, different
 * ports, a load balancer in front (here, the test picks the process for each request).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { io, type Socket } from 'socket.io-client';
import { GraphApiDouble } from '../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../doubles/whatsapp-payloads.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { STATIC_AUTH_PLUGIN, uniqueDatabaseUri } from '../helpers/test-host.js';
import { ACCESS_TOKEN, APP_SECRET, sign, VERIFY_TOKEN } from '../plugins/whatsapp/harness.js';

export const JOB_COUNTER_PLUGIN = { from: './dist/tests/fixtures/plugins/job-counter/index.js' };
export const CLUSTER_PLUGINS = [STATIC_AUTH_PLUGIN, 'audit', 'flow', 'schedule', 'whatsapp', 'consent', JOB_COUNTER_PLUGIN];

export interface Cluster {
  processes: ServerProcess[];
  graph: GraphApiDouble;
  db: Db;
  redis: Redis;
  keyPrefix: string;
  /** Posts a signed webhook body to one process; the HTTP status, or null when the process could not be reached. */
  postWebhook(to: ServerProcess, payload: unknown): Promise<number | null>;
  request<T = unknown>(to: ServerProcess, method: string, path: string, body?: unknown, role?: string): Promise<{ status: number; body: T }>;
  /** A socket.io client on one process, subscribed to `topics`. */
  socket(to: ServerProcess, topics: string[]): Promise<Socket>;
  stop(): Promise<void>;
}

export async function startCluster(size: number, env: Record<string, string> = {}): Promise<Cluster> {
  const graph = new GraphApiDouble();
  await graph.start();
  graph.acceptedTokens = [ACCESS_TOKEN];
  const mongodbUri = uniqueDatabaseUri('multiprocess');
  // A key prefix of its own: the due index, locks and the Socket.IO channel are this cluster's only.
  const keyPrefix = `mp${randomBytes(3).toString('hex')}:`;
  const processEnv = {
    WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url, CONSENT_ERASURE_KEY: 'multiprocess-erasure-key-0123',
    FLOWGATE__redis__keyPrefix: keyPrefix,
    ...(process.env.MULTIPROCESS_LOG ? { FLOWGATE__log__level: process.env.MULTIPROCESS_LOG } : {}),
    ...env,
  };
  const mongo = new MongoClient(mongodbUri);
  await mongo.connect();
  const redis = new Redis(process.env.REDIS_URL as string);
  const processes: ServerProcess[] = [];
  const sockets: Socket[] = [];
  const cluster: Cluster = {
    processes, graph, db: mongo.db(), redis, keyPrefix,
    async postWebhook(to, payload) {
      const raw = JSON.stringify(payload);
      try {
        const response = await fetch(`${to.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) }, body: raw });
        await response.arrayBuffer();
        return response.status;
      } catch {
        return null;
      }
    },
    async request<T>(to: ServerProcess, method: string, path: string, body?: unknown, role = 'manager') {
      const response = await fetch(`${to.url}${path}`, {
        method: method.toUpperCase(),
        headers: { authorization: `Bearer role:${role}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async socket(to, topics) {
      const socket = io(to.url, { transports: ['websocket'], auth: { token: 'role:manager' }, reconnection: false, forceNew: true });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const result = await socket.emitWithAck('subscribe', topics) as { subscribed: string[] };
      if (result.subscribed.length !== topics.length) throw new Error(`could not subscribe to ${topics.join(', ')}`);
      return socket;
    },
    async stop() {
      for (const socket of sockets) socket.disconnect();
      // A graceful stop waits for work queued on a slow database; the test has its answers by then.
      await Promise.all(processes.map((p) => Promise.race([p.kill('SIGTERM'), new Promise((resolve) => setTimeout(resolve, 10_000))])));
      await Promise.all(processes.map((p) => p.kill('SIGKILL')));
      await graph.stop();
      await mongo.close();
      redis.disconnect();
    },
  };
  // The first process creates the indexes and imports the shipped workflows; the others start
  // together, as a deployment scales out, and race each other's start-up writes.
  // MULTIPROCESS_LOG=info (or warn, debug) writes what each process logs to a file in the temp folder.
  let started = 0;
  const start = () => startServerProcess({
    mongodbUri, plugins: CLUSTER_PLUGINS, env: processEnv, startTimeoutMs: 90_000,
    ...(process.env.MULTIPROCESS_LOG ? { logs: createWriteStream(join(tmpdir(), `multiprocess-${process.pid}-${started++}.log`)) } : {}),
  });
  try {
    processes.push(await start());
    const rest = await Promise.allSettled(Array.from({ length: size - 1 }, start));
    for (const result of rest) if (result.status === 'fulfilled') processes.push(result.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inParallel<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  }));
}

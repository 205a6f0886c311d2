/**
 * WhatsApp channel throughput:
 *  1. signed inbound webhooks accepted per second, with ack latency p50/p99, at 10 and 50
 *     connections (a closed-loop keep-alive load generator; each request is a fresh signed
 *     message), and the time until
 *     every stored update was processed;
 *  2. sends per second through the Graph API adapter to the local double.
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/whatsapp.js
 *   BENCH_SECONDS=8 BENCH_SENDS=2000
 */
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import http from 'node:http';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';
import { GraphClient } from '../plugins/whatsapp/graph/graph-client.js';
import type { Model } from 'mongoose';
import { WebhookUpdateModel, type WebhookUpdate } from '../plugins/whatsapp/models/webhook-update.js';
import { InboundProcessor } from '../plugins/whatsapp/services/inbound-processor.js';
import { GraphApiDouble } from '../tests/doubles/graph-api.js';
import { inboundText, PHONE_NUMBER_ID } from '../tests/doubles/whatsapp-payloads.js';
import { printTable, recordFigures } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const SENDS = Number(process.env.BENCH_SENDS ?? 2000);
const DRAIN_CAP_S = Number(process.env.BENCH_DRAIN_CAP ?? 60);
let processedBefore = 0;
const APP_SECRET = 'bench-app-secret';

/** `connections` keep-alive clients, each sending its next request when the last was answered. */
async function load(url: URL, connections: number, seconds: number, body: () => { data: string; headers: Record<string, string> }): Promise<{ latencies: number[]; non2xx: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let non2xx = 0;
  const until = Date.now() + seconds * 1000;
  const one = () => new Promise<void>((resolve, reject) => {
    const { data, headers } = body();
    const t0 = performance.now();
    const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(data) } }, (response) => {
      response.resume();
      response.on('end', () => {
        latencies.push(performance.now() - t0);
        if ((response.statusCode ?? 0) >= 300) non2xx++;
        resolve();
      });
    });
    request.on('error', reject);
    request.end(data);
  });
  await Promise.all(Array.from({ length: connections }, async () => { while (Date.now() < until) await one(); }));
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), non2xx };
}

const at = (sorted: number[], q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));

async function webhookRun(server: FlowgateServer, connections: number): Promise<Record<string, string | number>> {
  let n = 0;
  const { latencies, non2xx } = await load(new URL(`${server.url}/webhooks/whatsapp`), connections, SECONDS, () => {
    // A new customer message per request, from a few hundred customers, signed like Meta's.
    const data = JSON.stringify(inboundText(`bench ${connections}/${n} olá`, { from: `4479${String(n++ % 500).padStart(8, '0')}` }).payload);
    return { data, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', APP_SECRET).update(data).digest('hex')}` } };
  });
  const ackedAt = Date.now();
  // Processing runs behind the acks; wait for it, up to a cap so a slow store still reports.
  const drained = await Promise.race([server.get(InboundProcessor).idle().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), DRAIN_CAP_S * 1000))]);
  const drainSeconds = (Date.now() - ackedAt) / 1000;
  const updates = server.get<Model<WebhookUpdate>>(WebhookUpdateModel.token);
  const processed = await updates.countDocuments({ state: 'processed', _id: { $regex: `^message:` } }) - processedBefore;
  processedBefore += processed;
  const accepted = latencies.length - non2xx;
  const row = {
    connections, 'accepted/s': Math.round(accepted / SECONDS), 'ack p50 ms': at(latencies, 0.5), 'ack p99 ms': at(latencies, 0.99),
    non2xx, accepted, processed, 'all processed': drained ? 'yes' : `no (cap ${DRAIN_CAP_S} s)`, 'wait after last ack s': Number(drainSeconds.toFixed(1)),
    'processed/s': Math.round(processed / (SECONDS + drainSeconds)),
  };
  console.log(JSON.stringify(row));
  if (!drained) await server.get(InboundProcessor).drain();
  return row;
}

async function sendRun(graph: GraphApiDouble, concurrency: number): Promise<Record<string, string | number>> {
  const client = new GraphClient({ apiUrl: graph.url, apiVersion: 'v25.0', phoneNumberId: PHONE_NUMBER_ID, accessToken: 'bench', timeoutMs: 10_000, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < SENDS) {
      next++;
      const t0 = performance.now();
      const result = await client.send({ type: 'text', text: { body: 'bench' } }, { to: '+447700900001' });
      latencies.push(performance.now() - t0);
      if (!result.ok) failures++;
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    concurrency, sends: SENDS, 'sends/s': Math.round(SENDS / seconds), 'p50 ms': Number((latencies[Math.floor(latencies.length / 2)] ?? 0).toFixed(1)),
    'p99 ms': Number((latencies[Math.floor(latencies.length * 0.99)] ?? 0).toFixed(1)), failures,
  };
}

async function main(): Promise<void> {
  const graph = new GraphApiDouble();
  await graph.start();
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: {
      ...process.env, NODE_ENV: 'production', WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: 'bench', WHATSAPP_ACCESS_TOKEN: 'bench',
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url,
    },
    overrides: { plugins: ['whatsapp'], http: { port: 0 }, log: { level: 'error' }, workflows: { dir: join(projectRoot, 'dist/bench/no-workflows'), watch: false } },
  });
  // The plugin reads its secrets from the environment the host was given.
  Object.assign(process.env, { WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url, WHATSAPP_ACCESS_TOKEN: 'bench' });
  const server = new FlowgateServer(config);
  await server.start();
  const webhooks = [await webhookRun(server, 10), await webhookRun(server, 50)];
  await server.stop();
  const sends = [await sendRun(graph, 10), await sendRun(graph, 50)];
  await graph.stop();
  printTable(`Signed inbound webhooks (one message each, ${SECONDS} s per row)`, webhooks);
  printTable('Sends through the Graph API adapter to the local double', sends);
  recordFigures('whatsapp', [
    ...webhooks.map((r) => ({ figure: `webhooks accepted/s @${r.connections} (no workflow)`, value: r['accepted/s'] as number, detail: `ack p99 ${r['ack p99 ms']} ms, processed/s ${r['processed/s']}` })),
    ...sends.map((r) => ({ figure: `sends/s @${r.concurrency} (Graph API double)`, value: r['sends/s'] as number, detail: `p99 ${r['p99 ms']} ms, failures ${r.failures}` })),
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

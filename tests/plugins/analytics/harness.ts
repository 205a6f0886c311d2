/** Boots Flowgate with the analytics plugin and helpers to send events and wait for the rollups. */
import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer, type TestServerOptions } from '../../helpers/test-host.js';

/** Settings that let tests date events years back and see flushes and pushes quickly. */
export const FAST_ANALYTICS = { retentionDays: 36_500, flushEveryMs: 100, realtimePushMs: 300 };

export async function startAnalytics(label: string, options: TestServerOptions = {}): Promise<TestServer> {
  // A Redis key prefix of its own: the buffered counts, inflight entries and flush lock of one
  // test's servers must not be taken, replayed or blocked by another test's.
  return startTestServer({
    ...options, label, plugins: ['analytics', ...(options.plugins ?? [])],
    config: { redis: { keyPrefix: `${label}-${randomBytes(3).toString('hex')}:` }, ...(options.config ?? {}) },
    pluginSettings: { ...(options.pluginSettings ?? {}), analytics: { ...FAST_ANALYTICS, ...((options.pluginSettings?.analytics as object | undefined) ?? {}) } },
  });
}

export interface TestEvent {
  id: string;
  type: string;
  occurredAt: string;
  dimensions?: Record<string, string>;
  value?: number;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: Array<{ id: string; outcome: string; code?: string }>;
}

/** Posts events as a manager (who holds analytics:ingest). */
export async function ingest(t: Pick<TestServer, 'request'>, events: TestEvent[]): Promise<IngestResult> {
  const response = await t.request<IngestResult>('post', '/api/analytics/events', { as: 'manager', body: { events } });
  if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${response.text}`);
  return response.body;
}

/** Waits until everything ingested so far is in the rollup documents. */
export async function settled(t: TestServer): Promise<void> {
  const { RollupFlusher } = await import('../../../plugins/analytics/services/rollup-flusher.js');
  await t.server.get(RollupFlusher).settle();
}

export async function get<T>(t: Pick<TestServer, 'request'>, path: string, as = 'analyst'): Promise<T> {
  const response = await t.request<T>('get', path, { as });
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.text}`);
  return response.body;
}

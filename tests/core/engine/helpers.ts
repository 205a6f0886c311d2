import assert from 'node:assert/strict';
import { eventually, type TestServer } from '../../helpers/test-host.js';

export const PROBE_PLUGIN = { from: './dist/tests/fixtures/plugins/probe/index.js' };
export const ENGINE_PLUGINS = ['flow', 'http', 'schedule', 'hello', PROBE_PLUGIN];

export interface ExecutionView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: string;
  currentStep: string | null;
  wakeAt: string | null;
  error: { code: string; message: string; stepId?: string } | null;
  outputs: Record<string, unknown>;
  steps: Array<{ stepId: string; status: string; attempt: number; port?: string; recalled?: boolean; input?: unknown; output?: unknown; index: number; decisions: Array<{ policy: string; decision: string; code?: string; reason?: string }>; error: { code: string; message: string } | null }>;
}

let counter = 0;
export const uniqueId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** A workflow started by hand (flow.manual), with the given steps. */
export function manualWorkflow(id: string, steps: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: `test ${id}`, trigger: { type: 'flow.manual@1' }, steps, ...extra };
}

export async function createWorkflow(t: TestServer, workflow: Record<string, unknown>): Promise<void> {
  const created = await t.request('post', '/api/workflows', { as: 'manager', body: workflow });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

/** Starts a manual workflow and returns the execution once it reached one of `statuses`. */
export async function runWorkflow(t: TestServer, id: string, payload: Record<string, unknown> = {}, statuses = ['succeeded', 'failed', 'cancelled']): Promise<ExecutionView> {
  const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: { payload } });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return waitForExecution(t, started.body.eventId, statuses);
}

export async function waitForExecution(t: TestServer, eventId: string, statuses: string[], timeoutMs = 10_000): Promise<ExecutionView> {
  return eventually(async () => {
    const list = await t.request<{ items: Array<{ id: string; status: string }> }>('get', `/api/executions?eventId=${eventId}`, { as: 'viewer' });
    const found = list.body.items[0];
    if (!found || !statuses.includes(found.status)) return null;
    return (await t.request<ExecutionView>('get', `/api/executions/${found.id}`, { as: 'viewer' })).body;
  }, timeoutMs);
}

export async function effectCount(t: TestServer, keyPrefix: string): Promise<number> {
  const db = t.server.get((await import('../../../core/index.js')).MongoConnection).connection.db;
  if (!db) throw new Error('no db');
  return db.collection('probeeffects').countDocuments({ key: { $regex: `^${keyPrefix}` } });
}

/**
 * Bad input and attacks against every route of the running server. Routes come from the OpenAPI
 * document, so routes added by new plugins are covered without touching this file.
 */
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { PassThrough } from 'node:stream';
import { SignJWT, decodeJwt } from 'jose';
import { MongoConnection } from '../../core/index.js';
import { createLogger } from '../../core/logging/logger.js';
import { inboundText } from '../doubles/whatsapp-payloads.js';
import { eventually, sign } from '../plugins/whatsapp/harness.js';
import { OWNER } from '../plugins/identity/identity-host.js';
import { SECRET_ENVIRONMENT, startFullServer, type FullServer } from './full-server.js';

interface Operation { method: string; path: string; params: string[]; query: string[]; bodyProperties: string[] | null; permission: string }

type OpenApi = { paths: Record<string, Record<string, {
  parameters?: Array<{ in: string; name: string }>; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; $ref?: string } }> }; 'x-permission'?: string;
}>>; components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } };

function operations(doc: OpenApi): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      let schema = op.requestBody?.content['application/json']?.schema;
      if (schema?.$ref) schema = doc.components?.schemas?.[schema.$ref.split('/').pop() as string];
      out.push({
        method, path,
        params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyProperties: op.requestBody ? Object.keys(schema?.properties ?? {}) : null,
        permission: op['x-permission'] ?? 'public',
      });
    }
  }
  return out;
}

/** A path with every parameter replaced by `value` (URL-encoded). */
const fill = (op: Operation, value: string) => op.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(value));
const realisticPath = (op: Operation) => op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (/phone/i.test(name) ? '4915112345678' : '656565656565656565656565'));

function capturedLogger() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

describe('reliability: abuse of every route', function () {
  this.timeout(120_000);
  let s: FullServer;
  let ops: Operation[];
  const log = capturedLogger();
  const responses: string[] = [];
  const call = async (method: string, path: string, options: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string | null } = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== null) headers.authorization ??= `Bearer ${options.token ?? s.ownerToken}`;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${s.t.url}${path}`, { method: method.toUpperCase(), headers, body });
    const text = await response.text();
    responses.push(text, JSON.stringify([...response.headers]));
    return { status: response.status, text, contentType: response.headers.get('content-type') ?? '' };
  };

  before(async () => {
    s = await startFullServer({ label: 'abuse', logger: log.logger });
    const doc = (await s.t.request<OpenApi>('get', '/api/openapi.json')).body;
    ops = operations(doc);
    assert.ok(ops.length > 40, `the document lists the routes (${ops.length})`);
  });
  after(async () => { await s?.stop(); });

  it('refuses an operator or a prototype key in any body field of any route with 400 FORBIDDEN_KEY', async () => {
    const failures: string[] = [];
    for (const op of ops.filter((o) => o.bodyProperties && o.method !== 'get' && o.method !== 'delete')) {
      const path = realisticPath(op);
      const attempts: Array<[string, string]> = [
        ...op.bodyProperties!.map((field): [string, string] => [`${field}: {$gt: ""}`, JSON.stringify({ [field]: { $gt: '' } })]),
        ['top-level $where', JSON.stringify({ $where: 'sleep(5000)' })],
        ['top-level __proto__', '{"__proto__": {"isAdmin": true}}'],
        ['nested constructor.prototype', '{"a": {"constructor": {"prototype": {"isAdmin": true}}}}'],
      ];
      for (const [what, raw] of attempts) {
        const headers: Record<string, string> = op.path === '/webhooks/whatsapp' ? { 'x-hub-signature-256': sign(raw, SECRET_ENVIRONMENT.WHATSAPP_APP_SECRET) } : {};
        const response = await call(op.method, path, { raw, headers });
        if (response.status !== 400 || !response.text.includes('FORBIDDEN_KEY')) failures.push(`${op.method} ${op.path} ${what}: ${response.status} ${response.text.slice(0, 120)}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(({} as Record<string, unknown>).isAdmin === undefined, 'no prototype was polluted');
  });

  it('refuses operators and prototype keys in query strings with 400, and never treats a path value as an operator', async () => {
    // A session of its own: a sweep that reaches POST /api/auth/logout must not end the shared one.
    const token = (await s.t.login(OWNER.email, OWNER.password)).body.accessToken;
    const failures: string[] = [];
    const takesBody = (op: Operation) => op.bodyProperties !== null && op.method !== 'get' && op.method !== 'delete';
    for (const op of ops) {
      const base = realisticPath(op);
      const queries = ['$where=1', '__proto__%5BisAdmin%5D=1', 'constructor=1', ...op.query.map((q) => `${encodeURIComponent(q)}%5B%24gt%5D=`)];
      // Public reads that take no query (probes, documents) ignore one; every other route refuses it.
      const ignoresQuery = op.method === 'get' && op.permission === 'public' && op.query.length === 0;
      for (const query of queries) {
        const response = await call(op.method, `${base}?${query}`, { token, body: takesBody(op) ? {} : undefined });
        if (response.status >= 500 || (response.status < 300 && !ignoresQuery)) failures.push(`${op.method} ${op.path}?${query}: ${response.status}`);
      }
      for (const value of op.params.length ? ['{"$gt":""}', '$where', '../../../etc/passwd', '..%2F..%2Fetc%2Fpasswd'] : []) {
        const response = await call(op.method, fill(op, value), { token, body: takesBody(op) ? {} : undefined });
        // Refused, not found, or taken literally: a list matched by it must be empty.
        const literal = response.status < 300 && !/"items":\[\{/.test(response.text);
        if (response.status >= 500 || (response.status < 300 && !literal)) failures.push(`${op.method} ${fill(op, value)}: ${response.status} ${response.text.slice(0, 100)}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('answers a body over the limit with 413 and a JSON error on every route that takes one', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(3.5 * 1024 * 1024) });
    const failures: string[] = [];
    for (const op of ops.filter((o) => o.method !== 'get' && o.method !== 'delete')) {
      const response = await call(op.method, realisticPath(op), { raw: big });
      if (response.status !== 413 || !/json/.test(response.contentType) || !response.text.includes('PAYLOAD_TOO_LARGE')) failures.push(`${op.method} ${op.path}: ${response.status}`);
    }
    assert.deepEqual(failures, []);
  });

  it('refuses tokens signed with another deployment\'s secret (foreign tokens)', async () => {
    const claims = decodeJwt(s.ownerToken);
    const foreign = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(String(claims.sub))
      .setIssuer(String(claims.iss)).setAudience(claims.aud as string).setIssuedAt().setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-deployment-secret-that-is-long-enough-42'));
    const response = await call('get', '/api/permissions/me', { token: foreign });
    assert.equal(response.status, 401);
  });

  it('compares webhook signatures and API key hashes with timingSafeEqual, on buffers of equal length', async () => {
    const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    const original = crypto.timingSafeEqual;
    const calls: Array<[number, number]> = [];
    crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    }) as typeof original;
    syncBuiltinESMExports(); // the server's `import { timingSafeEqual } from 'node:crypto'` now sees the spy
    try {
      const raw = JSON.stringify(inboundText('hello').payload);
      const wrongRightLength = `sha256=${'0'.repeat(64)}`;
      assert.equal((await call('post', '/webhooks/whatsapp', { raw, token: null, headers: { 'x-hub-signature-256': wrongRightLength } })).status, 401);
      const webhookCalls = calls.length;
      assert.ok(webhookCalls >= 1, 'the webhook signature went through timingSafeEqual');
      assert.equal((await call('post', '/webhooks/whatsapp', { raw, token: null, headers: { 'x-hub-signature-256': 'sha256=abc' } })).status, 401);
      const wrongKey = `fgk_${'a'.repeat(24)}_${'b'.repeat(43)}`;
      assert.equal((await call('get', '/api/permissions/me', { token: null, headers: { 'x-api-key': wrongKey } })).status, 401);
      assert.ok(calls.every(([a, b]) => a === b), `always equal lengths: ${JSON.stringify(calls)}`);
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
  });

  it('keeps user templates away from prototypes and the process', async () => {
    const attempts = [
      '{{constructor.constructor "return process.env"}}',
      '{{#with trigger}}{{constructor.name}}{{/with}}',
      '{{lookup trigger "constructor"}}',
      'x {{trigger.constructor.name}}',
      '{{trigger.__proto__}}',
      '{{log "hi"}}',
      'x {{trigger.payload.__proto__.toString}}',
    ];
    const outcomes: string[] = [];
    for (const [index, text] of attempts.entries()) {
      const workflow = {
        id: `template-abuse-${index}`, name: 'template abuse', trigger: { type: 'flow.manual@1' },
        steps: [{ id: 'answer', action: 'whatsapp.send@1', input: { to: '+4915112345678', text } }],
      };
      const created = await call('post', '/api/workflows', { body: workflow });
      if (created.status !== 201) {
        assert.ok(created.status === 400 || created.status === 422, `${text}: ${created.status} ${created.text}`);
        outcomes.push(`${text} → refused ${created.status}`);
        continue;
      }
      const run = await call('post', `/api/workflows/${workflow.id}/run`, { body: { payload: {} } });
      const { eventId } = JSON.parse(run.text) as { eventId: string };
      const execution = await eventually(async () => {
        const list = JSON.parse((await call('get', `/api/executions?eventId=${eventId}`)).text) as { items: Array<{ id: string; status: string }> };
        const found = list.items[0];
        return found && ['succeeded', 'failed'].includes(found.status) ? JSON.parse((await call('get', `/api/executions/${found.id}`)).text) as { status: string; error: { code: string } | null } : null;
      }, 15_000, 100);
      assert.equal(execution.status, 'failed', `${text} rendered: ${JSON.stringify(execution)}`);
      assert.match(execution.error?.code ?? '', /^TEMPLATE_/, text);
      outcomes.push(`${text} → ${execution.error?.code}`);
    }
    assert.equal(s.graph.sends.length, 0, `no template reached a prototype (${outcomes.join('; ')})`);
  });

  it('never shows a secret in responses, the OpenAPI document, the audit log or the logs', async () => {
    // Provoke the paths that handle secrets: webhook signatures and verification, a bad sign-in,
    // a Graph API call that fails, a configuration listing.
    await call('get', `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`, { token: null });
    await call('get', `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${SECRET_ENVIRONMENT.WHATSAPP_VERIFY_TOKEN}&hub.challenge=42`, { token: null });
    await call('post', '/api/auth/login', { token: null, body: { email: 'owner@example.test', password: 'wrong password' } });
    s.graph.failNext({ code: 190, httpStatus: 401, message: 'Invalid OAuth access token' });
    await call('post', '/api/messages', { body: { to: '+4915112345678', template: { name: 'hello_world', language: 'en_US' }, idempotencyKey: 'secret-probe-1' } });
    await call('get', '/api/plugins');
    await call('get', '/metrics');
    // Everything stored, the audit log's own collections included.
    const db = s.t.server.get(MongoConnection).connection.db;
    assert.ok(db);
    const stored: string[] = [];
    for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) stored.push(JSON.stringify(await db.collection(name).find().toArray()));
    const documents = [
      (await call('get', '/api/openapi.json')).text,
      (await call('get', '/api/audit/logs?limit=200')).text,
      (await call('get', '/api/audit/export')).text,
    ];
    const outputs = { responses: responses.join('\n'), logs: log.lines.join(''), documents: documents.join('\n'), database: stored.join('\n') };
    assert.ok(outputs.logs.length > 0, 'the server logged');
    for (const secret of s.secrets) {
      for (const [where, text] of Object.entries(outputs)) {
        // The handshake echoes the challenge only; the token itself appears only in the request we sent.
        assert.equal(text.includes(secret), false, `${secret.slice(0, 8)}… appears in ${where}`);
      }
    }
  });
});

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../../core/logging/logger.js';
import { CORE_PROBE_PLUGIN, startTestServer } from '../../helpers/test-host.js';

/** A debug-level logger whose JSON lines the test can read back. */
function capturedLogger() {
  const stream = new PassThrough();
  const lines: string[] = [];
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (pending + chunk.toString()).split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  return { logger: createLogger({ level: 'debug', stream }), lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const SECRETS = ['s3cr3t-access-token', 'hunter2-password', 'app-secret-value', 'key-0123456789', 'role:agent', 'url-password-value', 'c29tZTpiYXNpYw'];

function assertNoSecret(lines: string[]): void {
  for (const secret of SECRETS) {
    const leaking = lines.find((line) => line.includes(secret));
    assert.equal(leaking, undefined, `${secret} leaked into a log line`);
  }
}

describe('core/logging/logger', () => {
  it('writes one JSON object per line with level, message and timestamp', async () => {
    const { logger, parsed } = capturedLogger();
    logger.info('hello', { requestId: 'r-1' });
    await new Promise((r) => setImmediate(r));
    const [line] = parsed();
    assert.equal(line?.level, 'info');
    assert.equal(line?.message, 'hello');
    assert.equal(line?.requestId, 'r-1');
    assert.match(String(line?.timestamp), /^\d{4}-\d\d-\d\dT/);
  });

  it('redacts secrets by key, inline credentials, URL passwords and error messages and stacks', async () => {
    const { logger, lines } = capturedLogger();
    logger.info('login', { token: 's3cr3t-access-token', password: 'hunter2-password', user: { appSecret: 'app-secret-value', apiKey: 'key-0123456789' } });
    logger.info('outgoing call', { headers: { Authorization: 'Bearer s3cr3t-access-token', accept: 'application/json' } });
    logger.warn('upstream said Bearer s3cr3t-access-token was refused');
    logger.warn('connect failed', { target: 'redis://flowgate:url-password-value@cache:6379/0' });
    logger.error('call failed', { error: new Error('Authorization: Basic c29tZTpiYXNpYw== rejected by mongodb://admin:url-password-value@db/x') });
    logger.error(new Error('token s3cr3t-access-token expired: Bearer s3cr3t-access-token'));
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 6);
    assertNoSecret(lines);
    assert.match(lines[0] ?? '', /"password":"\[redacted\]"/);
    assert.match(lines[1] ?? '', /"accept":"application\/json"/, 'what is not secret stays readable');
    assert.match(lines[3] ?? '', /redis:\/\/flowgate:\[redacted\]@cache:6379/);
  });

  it('keeps secrets out of the lines a real request produces, and tags each with the request id', async () => {
    const { logger, lines, parsed } = capturedLogger();
    const t = await startTestServer({ label: 'logging', logger, plugins: [CORE_PROBE_PLUGIN] });
    try {
      const response = await t.request('post', '/api/core-probe/echo', {
        as: 'agent', headers: { 'x-request-id': 'req-redaction-1', cookie: 'session=s3cr3t-access-token' },
        body: { contact: { phone: '4915112345678' }, password: 'hunter2-password' },
      });
      assert.equal(response.status, 200);
      await t.request('get', '/api/plugins', { headers: { authorization: 'Bearer role:agent' } });
    } finally {
      await t.stop();
    }
    const requestLines = parsed().filter((line) => line.requestId === 'req-redaction-1');
    const echo = requestLines.find((line) => line.message === 'core-probe echo') as { headers: Record<string, string>; body: Record<string, unknown> } | undefined;
    assert.ok(echo, 'the handler line carries the request id');
    assert.equal(echo.headers.authorization, '[redacted]');
    assert.equal(echo.headers.cookie, '[redacted]');
    assert.equal(echo.body.password, '[redacted]');
    assert.deepEqual(echo.body.contact, { phone: '4915112345678' });
    assert.ok(requestLines.some((line) => line.message === 'request' && line.status === 200), 'the access line carries it too');
    assertNoSecret(lines);
  });
});

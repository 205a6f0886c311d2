import assert from 'node:assert/strict';
import { CORE_PROBE_PLUGIN, startTestServer, type HttpResult, type TestServer } from '../../helpers/test-host.js';

interface Envelope { error: { code: string; message: string; details?: Array<{ path: string; message: string }> | Record<string, unknown>; requestId: string } }

const agent = { authorization: 'Bearer role:agent' };
const json = { ...agent, 'content-type': 'application/json' };
const validBody = { contact: { phone: '4915112345678', name: 'Ada' }, tags: ['vip'] };

interface BadInput {
  what: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  rawBody?: string;
  status: number;
  code: string;
  /** The path of the failing value reported in details. */
  failingPath?: string;
}

const badInputs: BadInput[] = [
  { what: 'malformed JSON', rawBody: '{"contact": {"phone": "4915112345678"', status: 400, code: 'MALFORMED_JSON' },
  { what: 'a JSON scalar instead of an object', rawBody: '"just a string"', status: 400, code: 'MALFORMED_JSON' },
  { what: 'a body sent as text/plain', headers: { ...agent, 'content-type': 'text/plain' }, rawBody: JSON.stringify(validBody), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'a body sent as a form', headers: { ...agent, 'content-type': 'application/x-www-form-urlencoded' }, rawBody: 'contact=1', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'a body without a content type', headers: agent, rawBody: JSON.stringify(validBody), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'a charset JSON cannot be in', headers: { ...agent, 'content-type': 'application/json; charset=latin-9' }, rawBody: JSON.stringify(validBody), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'a body over the route limit (4kb)', rawBody: JSON.stringify({ ...validBody, password: 'x'.repeat(5_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { what: 'no body where one is required', rawBody: '', status: 400, code: 'BODY_REQUIRED' },
  { what: 'an unknown top-level field', rawBody: JSON.stringify({ ...validBody, admin: true }), status: 400, code: 'VALIDATION_FAILED', failingPath: 'body.admin' },
  { what: 'an unknown nested field', rawBody: JSON.stringify({ contact: { phone: '4915112345678', email: 'a@b.c' } }), status: 400, code: 'VALIDATION_FAILED', failingPath: 'body.contact.email' },
  { what: 'a missing required field', rawBody: JSON.stringify({ tags: [] }), status: 400, code: 'VALIDATION_FAILED', failingPath: 'body.contact' },
  { what: 'a nested value of the wrong shape', rawBody: JSON.stringify({ contact: { phone: '+49 151' } }), status: 400, code: 'VALIDATION_FAILED', failingPath: 'body.contact.phone' },
  { what: 'a value of the wrong type in an array', rawBody: JSON.stringify({ ...validBody, tags: ['vip', 7] }), status: 400, code: 'VALIDATION_FAILED', failingPath: 'body.tags[1]' },
  { what: 'a number where a string belongs (no coercion of bodies)', rawBody: JSON.stringify({ contact: { phone: 4915112345678 } }), status: 400, code: 'VALIDATION_FAILED', failingPath: 'body.contact.phone' },
  { what: 'a __proto__ key', rawBody: '{"contact": {"phone": "4915112345678"}, "__proto__": {"admin": true}}', status: 400, code: 'FORBIDDEN_KEY', failingPath: 'body.__proto__' },
  { what: 'a nested constructor key', rawBody: '{"contact": {"phone": "4915112345678", "constructor": {"prototype": {}}}}', status: 400, code: 'FORBIDDEN_KEY', failingPath: 'body.contact.constructor' },
  { what: 'a prototype key', rawBody: '{"contact": {"phone": "4915112345678"}, "prototype": 1}', status: 400, code: 'FORBIDDEN_KEY', failingPath: 'body.prototype' },
  { what: 'a $where operator', rawBody: '{"contact": {"phone": "4915112345678"}, "$where": "sleep(1000)"}', status: 400, code: 'FORBIDDEN_KEY', failingPath: 'body.$where' },
  { what: 'a $gt operator in a nested value', rawBody: '{"contact": {"phone": {"$gt": ""}}}', status: 400, code: 'FORBIDDEN_KEY', failingPath: 'body.contact.phone.$gt' },
  { what: 'a path parameter that fails its schema', method: 'get', path: '/api/core-probe/records/not-an-id', status: 400, code: 'VALIDATION_FAILED', failingPath: 'params.id' },
  { what: 'a query value of the wrong type', method: 'get', path: '/api/core-probe/records/656565656565656565656565?fields=many', status: 400, code: 'VALIDATION_FAILED', failingPath: 'query.fields' },
  { what: 'an unknown query parameter', method: 'get', path: '/api/core-probe/records/656565656565656565656565?$where=1', status: 400, code: 'VALIDATION_FAILED', failingPath: 'query.$where' },
  { what: 'a record that does not exist', method: 'get', path: '/api/core-probe/records/656565656565656565656565', status: 404, code: 'NOT_FOUND' },
  { what: 'an unknown route', method: 'get', path: '/api/nothing-here', status: 404, code: 'ROUTE_NOT_FOUND' },
  { what: 'a method the route does not serve', method: 'delete', path: '/api/health', status: 404, code: 'ROUTE_NOT_FOUND' },
  { what: 'no credentials on a protected route', headers: { 'content-type': 'application/json' }, rawBody: JSON.stringify(validBody), status: 401, code: 'UNAUTHENTICATED' },
  { what: 'Basic instead of Bearer credentials', headers: { authorization: 'Basic YWRhOmh1bnRlcjI=', 'content-type': 'application/json' }, rawBody: JSON.stringify(validBody), status: 401, code: 'UNAUTHENTICATED' },
  { what: 'a role without the permission', headers: { authorization: 'Bearer role:viewer', 'content-type': 'application/json' }, rawBody: JSON.stringify(validBody), status: 403, code: 'FORBIDDEN' },
];

describe('core/http/http-app', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'http', plugins: ['hello', CORE_PROBE_PLUGIN] }); });
  after(async () => { await t?.stop(); });

  it('serves a valid request (the baseline the bad inputs differ from)', async () => {
    const echoed = await t.request('post', '/api/core-probe/echo', { as: 'agent', body: validBody });
    assert.equal(echoed.status, 200);
    assert.deepEqual(echoed.body, validBody);
  });

  describe('every bad input gets its 4xx in the one error envelope, never a 500', () => {
    for (const input of badInputs) {
      it(`${input.what}: ${input.status} ${input.code}${input.failingPath ? ` at ${input.failingPath}` : ''}`, async () => {
        const response: HttpResult<Envelope> = await t.request<Envelope>(input.method ?? 'post', input.path ?? '/api/core-probe/echo', {
          headers: input.headers ?? json, ...(input.rawBody === undefined ? {} : { rawBody: input.rawBody }),
        });
        assert.equal(response.status, input.status, response.text);
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
        assert.deepEqual(Object.keys(response.body), ['error']);
        assert.equal(response.body.error.code, input.code);
        assert.equal(typeof response.body.error.message, 'string');
        assert.equal(response.body.error.requestId, response.headers.get('x-request-id'));
        if (input.failingPath) {
          const paths = (response.body.error.details as Array<{ path: string }>).map((issue) => issue.path);
          assert.ok(paths.includes(input.failingPath), `details name ${input.failingPath}: ${JSON.stringify(paths)}`);
          assert.match(response.body.error.message, new RegExp(`^${input.failingPath.replace(/[.[\]$]/g, '\\$&')} `));
        }
        if (input.status === 401) assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      });
    }
  });

  it('the body limit is per route: the same size passes where the default (100kb) applies', async () => {
    const big = await t.request('post', '/api/hello/greetings', { as: 'agent', rawBody: JSON.stringify({ name: 'x'.repeat(20_000) }), headers: { 'content-type': 'application/json' } });
    assert.equal(big.status, 400, 'parsed, then refused by the schema (maxLength), not by size');
  });

  it('sends the security headers on every response, including errors', async () => {
    for (const path of ['/api/health', '/api/nothing-here']) {
      const { headers } = await t.request('get', path);
      assert.equal(headers.get('x-content-type-options'), 'nosniff');
      assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/);
      assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.match(headers.get('strict-transport-security') ?? '', /max-age=\d+/);
      assert.equal(headers.get('referrer-policy'), 'no-referrer');
      assert.equal(headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(headers.get('x-powered-by'), null);
    }
  });

  describe('request ids', () => {
    it('echoes a well-formed X-Request-Id, in the header and in the envelope', async () => {
      const response = await t.request<Envelope>('get', '/api/nothing-here', { headers: { 'x-request-id': 'trace-42.abc' } });
      assert.equal(response.headers.get('x-request-id'), 'trace-42.abc');
      assert.equal(response.body.error.requestId, 'trace-42.abc');
    });

    it('generates one when none is sent, and replaces one that could forge log lines', async () => {
      const generated = await t.request('get', '/api/health');
      assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const forged = await t.request<Envelope>('get', '/api/nothing-here', { headers: { 'x-request-id': 'x" level="error' } });
      assert.match(forged.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(forged.body.error.requestId, forged.headers.get('x-request-id'));
    });

    it('gives each request its own id', async () => {
      const [a, b] = await Promise.all([t.request('get', '/api/health'), t.request('get', '/api/health')]);
      assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
    });
  });
});

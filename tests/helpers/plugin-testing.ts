/**
 * `flowgate/testing`: what a plugin's own tests need to boot a real Flowgate server — the real
 * container, plugin host, MongoDB (or FerretDB) and Redis — with their plugin loaded by path.
 *
 * ```ts
 * import { startTestServer, nextEvent } from 'flowgate/testing';
 * const t = await startTestServer({ plugins: ['flow', './dist/my-plugin/index.js'] });
 * const res = await t.request('get', '/api/my-plugin/things', { as: 'viewer' });
 * ```
 *
 * `MONGODB_URI` and `REDIS_URL` must point at running servers; each test server gets a database
 * of its own on that MongoDB. `node dist/scripts/with-services.js -- mocha` starts private ones.
 * Requests and sockets authenticate with the test authenticator: `as: 'agent'` sends the token
 * `role:agent`, a principal holding exactly the permissions the agent role has.
 */
export {
  startTestServer, nextEvent, eventually, uniqueDatabaseUri,
  type TestServer, type TestServerOptions, type HttpResult,
} from './test-host.js';
/** A loopback server speaking the WhatsApp Graph API's shapes, for plugins that send messages. */
export { GraphApiDouble, type RecordedRequest } from '../doubles/graph-api.js';

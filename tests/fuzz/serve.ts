/**
 * The server the fuzzer talks to (tests/reliability/full-server.ts: every default plugin, the
 * real identity plugin). Prints one JSON line `{ url, apiKey }` — an owner API key, which no
 * fuzzed request can sign out the way it could end a session — and runs until SIGTERM or SIGINT.
 */
import { startFullServer } from '../reliability/full-server.js';

// Request limits have their own tests; here they would only turn fuzzed requests into 429s.
const server = await startFullServer({ label: 'fuzz', config: { http: { rateLimit: { perIp: 0, perCredential: 0 } } } });
const created = await server.t.call<{ key: string }>('post', '/api/api-keys', server.ownerToken, { name: 'fuzzer', role: 'owner' });
if (created.status !== 201) throw new Error(`could not create the fuzzer's API key: ${created.status} ${created.text}`);
process.stdout.write(`${JSON.stringify({ url: server.t.url, apiKey: created.body.key })}\n`);

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

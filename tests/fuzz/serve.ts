/**
 * The server the fuzzer talks to: every plugin of config/default.json with the real identity
 * plugin, the WhatsApp plugin pointed at the Graph API double, backups into a temporary folder.
 * Prints one JSON line `{ url, apiKey }` (an owner API key, which no fuzzed request can sign out,
 * unlike a session token) and runs until SIGTERM or SIGINT.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../core/paths.js';
import { GraphApiDouble } from '../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../doubles/whatsapp-payloads.js';
import { startIdentityServer } from '../plugins/identity/identity-host.js';

const defaults = JSON.parse(readFileSync(join(projectRoot, 'config/default.json'), 'utf8')) as { plugins: unknown[] };
const graph = new GraphApiDouble();
await graph.start();
Object.assign(process.env, {
  WHATSAPP_APP_SECRET: 'fuzz-app-secret', WHATSAPP_VERIFY_TOKEN: 'fuzz-verify-token', WHATSAPP_ACCESS_TOKEN: 'fuzz-access-token',
  WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url, CONSENT_ERASURE_KEY: 'fuzz-erasure-key-0123456789abcdef',
});
const backupDir = mkdtempSync(join(tmpdir(), 'flowgate-fuzz-backups-'));
const t = await startIdentityServer({
  label: 'fuzz',
  plugins: defaults.plugins as never,
  pluginSettings: { backup: { dir: backupDir }, whatsapp: { requestTimeoutMs: 2_000 } },
  // Request limits have their own tests; here they would only turn fuzzed requests into 429s.
  config: { http: { rateLimit: { perIp: 0, perCredential: 0 } } },
});
const owner = (await t.roleUsers()).owner;
const created = await t.call<{ key: string }>('post', '/api/api-keys', owner.accessToken, { name: 'fuzzer', role: 'owner' });
if (created.status !== 201) throw new Error(`could not create the fuzzer's API key: ${created.status} ${created.text}`);
process.stdout.write(`${JSON.stringify({ url: t.url, apiKey: created.body.key })}\n`);

const stop = async () => {
  await t.stop();
  await graph.stop();
  rmSync(backupDir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

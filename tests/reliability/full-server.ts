/**
 * A server with every plugin of config/default.json and the real identity plugin: the WhatsApp
 * plugin pointed at the Graph API double, backups into a temporary folder, and each secret set
 * to a distinctive value (so a test can look for it in every output). Used by the abuse tests
 * and by the fuzzer's server (tests/fuzz/serve.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { projectRoot } from '../../core/paths.js';
import { GraphApiDouble } from '../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../doubles/whatsapp-payloads.js';
import { OWNER, startIdentityServer, type IdentityTestServer } from '../plugins/identity/identity-host.js';

/** Secrets from the environment, each a value no other output would contain by chance. */
export const SECRET_ENVIRONMENT = {
  WHATSAPP_APP_SECRET: 'zqx-app-secret-7f3e91d0',
  WHATSAPP_VERIFY_TOKEN: 'zqx-verify-token-51ac0e',
  WHATSAPP_ACCESS_TOKEN: 'ZQXaccessTokenE88214bd',
  CONSENT_ERASURE_KEY: 'zqx-erasure-key-0c4d2b9e77',
  FLOWGATE_AUDIT_PSEUDONYM_KEY: 'zqx-pseudonym-key-4b1c9d2e8f7a6b5c4d3e2f1a',
  FLOWGATE_AUDIT_SIGNING_KEY: 'zqx-signing-key-9e8d7c6b5a4f3e2d1c0b9a8f7e',
} as const;
export const JWT_SECRET = 'zqx-jwt-secret-that-is-long-enough-31415926535';

export interface FullServer {
  t: IdentityTestServer;
  graph: GraphApiDouble;
  /** An access token of the first owner. */
  ownerToken: string;
  /** Every secret the server was given, the owner's password included. */
  secrets: string[];
  stop(): Promise<void>;
}

export async function startFullServer(options: { label: string; logger?: Logger; config?: Record<string, unknown> }): Promise<FullServer> {
  const defaults = JSON.parse(readFileSync(join(projectRoot, 'config/default.json'), 'utf8')) as { plugins: unknown[] };
  const graph = new GraphApiDouble();
  await graph.start();
  graph.acceptedTokens = [SECRET_ENVIRONMENT.WHATSAPP_ACCESS_TOKEN];
  const backupDir = mkdtempSync(join(tmpdir(), `flowgate-${options.label}-backups-`));
  const saved = Object.fromEntries(Object.keys(SECRET_ENVIRONMENT).map((name) => [name, process.env[name]]));
  Object.assign(process.env, SECRET_ENVIRONMENT, { WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url });
  let t: IdentityTestServer;
  try {
    t = await startIdentityServer({
      label: options.label,
      plugins: defaults.plugins as never,
      identity: { jwtSecret: JWT_SECRET },
      pluginSettings: { backup: { dir: backupDir }, whatsapp: { requestTimeoutMs: 2_000 } },
      logger: options.logger,
      config: options.config,
    });
  } finally {
    // Settings are read at boot: the next server of this process must not inherit them.
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const ownerToken = (await t.roleUsers()).owner.accessToken;
  return {
    t, graph, ownerToken,
    secrets: [...Object.values(SECRET_ENVIRONMENT), JWT_SECRET, OWNER.password],
    async stop() {
      await t.stop();
      await graph.stop();
      rmSync(backupDir, { recursive: true, force: true });
    },
  };
}

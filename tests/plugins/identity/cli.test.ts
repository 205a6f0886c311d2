/**
 * The plugin commands through the real `flowgate` binary: `user:create` for the first owner,
 * `audit:verify` on the live chain, and refusing to boot without secrets outside development.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { projectRoot } from '../../../core/paths.js';
import { MongoConnection } from '../../../core/index.js';
import { DigestSealer } from '../../../plugins/audit/sealer.js';
import { uniqueDatabaseUri } from '../../helpers/test-host.js';
import { startIdentityServer, type IdentityTestServer } from './identity-host.js';

const AUDIT_KEYS = { FLOWGATE_AUDIT_PSEUDONYM_KEY: 'p'.repeat(32), FLOWGATE_AUDIT_SIGNING_KEY: 's'.repeat(32) };

function flowgate(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'dist/core/cli/flowgate.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', REDIS_URL: process.env.REDIS_URL ?? '', FLOWGATE__log__level: 'silent', FLOWGATE__plugins: '["audit","identity"]', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('identity and audit: flowgate commands', function () {
  this.timeout(60_000);
  const mongodbUri = uniqueDatabaseUri('cli');
  const keyPrefix = `t${randomBytes(4).toString('hex')}:`;
  const env = { MONGODB_URI: mongodbUri, FLOWGATE__redis__keyPrefix: keyPrefix, ...AUDIT_KEYS };
  let t: IdentityTestServer | null = null;
  after(async () => { await t?.stop(); });

  it('lists plugin commands in help', async () => {
    const help = await flowgate(['help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /user:create\s+Create a user/);
    assert.match(help.stdout, /audit:verify\s+Verify the audit chain/);
  });

  it('creates the first owner with user:create, reading the password from stdin', async () => {
    const created = await flowgate(['user:create', '--email', 'first@example.test', '--name', 'First', '--role', 'owner', '--password-stdin'], env, 'first owner password\n');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).user.role, 'owner');
    assert.equal(created.stdout.includes('first owner password'), false);
    t = await startIdentityServer({ label: 'cli', mongodbUri, config: { redis: { keyPrefix } }, identity: { owner: {} }, audit: { pseudonymKey: AUDIT_KEYS.FLOWGATE_AUDIT_PSEUDONYM_KEY, signingKey: AUDIT_KEYS.FLOWGATE_AUDIT_SIGNING_KEY } });
    const login = await t.login('first@example.test', 'first owner password');
    assert.equal(login.status, 200, login.text);
  });

  it('refuses bad user:create usage with exit code 2', async () => {
    assert.equal((await flowgate(['user:create', '--email', 'x@example.test', '--name', 'X', '--role', 'emperor'], env)).code, 2);
    assert.equal((await flowgate(['nothing:here'], env)).code, 2);
  });

  it('audit:verify reports an intact chain, then names the entry someone modified', async () => {
    assert.ok(t);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await t.server.get(DigestSealer).seal() >= 1);
    const intact = await flowgate(['audit:verify'], env);
    assert.equal(intact.code, 0, intact.stdout + intact.stderr);
    assert.match(intact.stdout, /^OK: 1 digests, \d+ sealed entries checked/);
    const entries = t.server.get(MongoConnection).connection.db?.collection('audit_entries');
    await entries?.updateOne({ seq: 1 }, { $set: { action: 'nothing.to.see' } });
    const tampered = await flowgate(['audit:verify', '--json'], env);
    assert.equal(tampered.code, 1);
    assert.deepEqual(JSON.parse(tampered.stdout).modified.map((f: { seq: number }) => f.seq), [1]);
  });

  it('refuses to start outside development without the JWT secret', async () => {
    const production = await flowgate(['user:create', '--email', 'z@example.test', '--name', 'Z', '--role', 'agent'], { ...env, NODE_ENV: 'production' });
    assert.equal(production.code, 1);
    assert.match(production.stderr, /IDENTITY_JWT_SECRET_MISSING/);
    const noAuditKeys = await flowgate(['help'], { MONGODB_URI: mongodbUri, NODE_ENV: 'production', FLOWGATE_JWT_SECRET: 'x'.repeat(32) });
    assert.match(noAuditKeys.stdout, /Set FLOWGATE_AUDIT_PSEUDONYM_KEY and FLOWGATE_AUDIT_SIGNING_KEY/);
  });
});

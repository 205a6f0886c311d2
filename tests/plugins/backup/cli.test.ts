import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Newable } from 'inversify';
import type { CommandHandler } from '../../../core/index.js';
import { CreateBackupCommand, ListBackupsCommand, RestoreBackupCommand } from '../../../plugins/backup/commands/backup-commands.js';
import { projectRoot } from '../../../core/paths.js';
import { eventually } from '../../helpers/test-host.js';
import { engineSettled, PROBE_PLUGIN, snapshot, startBackupServer, wipe, type BackupTestServer } from './backup-test-kit.js';

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

describe('plugin backup: the flowgate CLI', function () {
  // Each case starts `flowgate` processes, which boot the whole plugin set: seconds each on a busy machine.
  this.timeout(180_000);
  let t: BackupTestServer;
  before(async () => { t = await startBackupServer('backup_cli'); });
  after(async () => { await t.stop(); });

  /** Runs a command's handler inside the test server, for cases that need no process of their own. */
  async function inProcess(command: Newable<CommandHandler>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = { stdout: '', stderr: '' };
    const sink = (key: 'stdout' | 'stderr') => new Writable({ write(chunk: Buffer, _encoding, callback) { out[key] += chunk.toString(); callback(); } });
    const code = await t.server.get(command).run(args, { stdin: Readable.from([]), stdout: sink('stdout'), stderr: sink('stderr') });
    return { code, ...out };
  }

  function flowgate(args: string[]): { child: ChildProcess; done: Promise<Run> } {
    const child = spawn(process.execPath, [join(projectRoot, 'dist/core/cli/flowgate.js'), ...args], {
      cwd: projectRoot,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        MONGODB_URI: t.mongodbUri,
        BACKUP_DIR: t.backupDir,
        FLOWGATE__plugins: JSON.stringify(['flow', 'http', 'schedule', 'hello', 'backup', PROBE_PLUGIN]),
        FLOWGATE__pluginSettings__backup__lockTtlMs: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const done = new Promise<Run>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
    return { child, done };
  }

  it('backs up with a progress bar, lists, dry-runs and restores', async () => {
    await t.db.collection('proberecords').insertMany(Array.from({ length: 3000 }, (_, i) => ({ i })));
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Ada' } });
    await engineSettled(t.db, 1);
    const before = await snapshot(t.db);

    const made = await flowgate(['backup:create']).done;
    assert.equal(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    assert.match(id, /^\d{8}T\d{9}Z-[a-f0-9]{6}$/);
    assert.match(made.stderr, /backup \[#+-*\]\s+\d+% [\d,]+\/[\d,]+ documents/);
    assert.match(made.stderr, /3,?0\d\d\/3,?0\d\d documents|100%/);
    const listed = await t.request<{ items: Array<{ id: string; trigger: string }> }>('get', '/api/backups', { as: 'admin' });
    assert.equal(listed.body.items[0]?.id, id);
    assert.equal(listed.body.items[0]?.trigger, 'cli');
    assert.match((await inProcess(ListBackupsCommand, [])).stdout, new RegExp(`^${id}\\s+cli`, 'm'));

    await wipe(t.db);
    const dry = await inProcess(RestoreBackupCommand, [id]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would replace proberecords: 3000 documents \(now 0\)/);
    const confirm = /--confirm ([a-f0-9]+)/.exec(dry.stdout)?.[1];
    assert.ok(confirm, dry.stdout);
    assert.equal(await t.db.collection('proberecords').countDocuments(), 0, 'the dry run changed nothing');

    const restored = await flowgate(['backup:restore', id, '--confirm', confirm]).done;
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /restore \[#+-*\]/);
    assert.match(restored.stderr, /restored into .* and verified/);
    assert.deepEqual(await snapshot(t.db), before);
  });

  it('refuses bad usage and an unknown backup with exit code 2', async () => {
    for (const args of [[], ['x', '--into', 'bad/name'], ['x', '--wat'], ['a', 'b']]) {
      const usage = await inProcess(RestoreBackupCommand, args);
      assert.equal(usage.code, 2, args.join(' '));
      assert.match(usage.stderr, /usage: flowgate backup:restore/);
    }
    assert.equal((await inProcess(CreateBackupCommand, ['--now'])).code, 2);
    const unknown = await flowgate(['backup:restore', '20200101T000000000Z-abcdef']).done;
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /NOT_FOUND/);
  });

  it('a backup killed with SIGKILL midway leaves no archive listed, and the next backup cleans up after it', async () => {
    await t.db.collection('proberecords').insertMany(Array.from({ length: 15_000 }, (_, i) => ({ i, payload: randomBytes(64).toString('hex') })));
    const before = new Set(readdirSync(t.backupDir));
    const { child, done } = flowgate(['backup:create']);
    // Wait until the draft holds data, then kill the process without any chance to clean up.
    const draft = await eventually(async () => {
      const name = readdirSync(t.backupDir).find((n) => n.startsWith('.draft-'));
      if (!name) return null;
      const files = readdirSync(join(t.backupDir, name));
      return files.some((f) => statSync(join(t.backupDir, name, f)).size > 0) ? name : null;
    }, 30_000, 10);
    child.kill('SIGKILL');
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(existsSync(join(t.backupDir, draft)), 'the half-written draft is still on disk');
    assert.ok(!existsSync(join(t.backupDir, draft, 'manifest.json')));
    const killedId = draft.replace('.draft-', '');
    const listed = await t.request<{ items: Array<{ id: string }> }>('get', '/api/backups?limit=100', { as: 'admin' });
    assert.ok(!listed.body.items.some((b) => b.id === killedId), 'the killed backup is not listed');
    assert.equal((await t.request('get', `/api/backups/${killedId}`, { as: 'admin' })).status, 404);
    assert.deepEqual(new Set(readdirSync(t.backupDir).filter((n) => !n.startsWith('.'))), new Set([...before].filter((n) => !n.startsWith('.'))));

    // The dead process's lock expires after lockTtlMs; then the next backup succeeds and removes the draft.
    const next = await eventually(async () => {
      const response = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
      return response.status === 201 ? response.body : null;
    }, 10_000, 200);
    assert.ok(!existsSync(join(t.backupDir, draft)), 'the draft was removed');
    const verified = await t.request<{ dryRun: boolean }>('post', `/api/backups/${next.id}/restore`, { as: 'owner', body: {} });
    assert.equal(verified.status, 200);
  });
});

/**
 * The `flowgate` command line in process (`Cli`, what the binary runs): the overview lists every
 * command, each answers --help, and every outcome has the exit code docs/cli.md promises.
 * tests/core/cli/flowgate.test.ts runs the real binary for the boot failures.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { Cli, EXIT } from '../../../core/cli/cli.js';
import { CoreError, injectable, type CommandHandler } from '../../../core/index.js';
import { Contributions } from '../../../core/plugins/contributions.js';
import { startTestServer, uniqueDatabaseUri } from '../../helpers/test-host.js';
import { AuditLog } from '../../../plugins/audit/public.js';
import { DigestSealer } from '../../../plugins/audit/sealer.js';

interface Run { code: number; stdout: string; stderr: string }

/** A command line session: one Cli (as one `flowgate` process has), each run's output captured apart. */
function session(env: Record<string, string> = {}): (args: string[]) => Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const sink = (key: 'stdout' | 'stderr') => new Writable({ write(chunk: Buffer, _encoding, callback) { out[key] += chunk.toString(); callback(); } });
  const cli = new Cli({ stdin: Readable.from([]), stdout: sink('stdout'), stderr: sink('stderr') }, { env: { ...process.env, FLOWGATE__log__level: 'silent', ...env } });
  return async (args) => {
    out.stdout = '';
    out.stderr = '';
    const code = await cli.run(args);
    return { code, ...out };
  };
}

const flowgate = (args: string[], env: Record<string, string> = {}): Promise<Run> => session(env)(args);

/** What the issue asks `flowgate --help` to list, with the names the plugins use. */
const COMMANDS = ['start', 'validate', 'test', 'help', 'user:create', 'backup', 'backup:create', 'backup:list', 'restore', 'backup:restore', 'audit:verify'];

describe('core/cli: flowgate help, usage and exit codes', function () {
  this.timeout(60_000);

  it('lists every command of the core and of the configured plugins, with aliases', async () => {
    const run = session();
    for (const args of [[], ['--help'], ['-h'], ['help']]) {
      const { code, stdout } = await run(args);
      assert.equal(code, EXIT.ok);
      for (const name of COMMANDS) assert.match(stdout, new RegExp(`^  ${name}\\s{2,}\\S`, 'm'), `${name} in flowgate ${args.join(' ')}`);
      assert.match(stdout, /^ {2}backup\s+Same as backup:create$/m);
      assert.match(stdout, /^ {2}restore\s+Same as backup:restore$/m);
      assert.match(stdout, /Exit codes: 0 success, 1 failure while running \(or findings\), 2 bad usage or invalid configuration\./);
    }
  });

  it('answers --help, -h and help <command> for every command without running it', async () => {
    const run = session();
    for (const name of COMMANDS) {
      for (const args of [[name, '--help'], [name, '-h'], ['help', name]]) {
        const { code, stdout, stderr } = await run(args);
        assert.equal(code, EXIT.ok, `flowgate ${args.join(' ')}: ${stderr}`);
        assert.match(stdout, /^Usage: flowgate [a-z:]+/, `flowgate ${args.join(' ')}`);
        assert.match(stdout, /Exit codes:/);
      }
    }
    const alias = await run(['restore', '--help']);
    assert.match(alias.stdout, /^Usage: flowgate backup:restore <backup id>.*\nAlso: {2}flowgate restore$/m);
    assert.match((await run(['audit:verify', '--help'])).stdout, /Exit 0 when the chain is intact, 1 when/);
  });

  it('exits with 2 on an unknown command or a command line it cannot run, naming the problem', async () => {
    const unknown = await flowgate(['launch']);
    assert.equal(unknown.code, EXIT.usage);
    assert.match(unknown.stderr, /^Unknown command "launch"\n\nUsage: flowgate/);
    assert.equal((await flowgate(['help', 'launch'])).code, EXIT.usage);
    assert.equal((await flowgate(['nothing:here', '--help'])).code, EXIT.usage);
    const missing = await flowgate(['validate', 'no/such/folder']);
    assert.equal(missing.code, EXIT.usage);
    assert.match(missing.stderr, /flowgate validate: no\/such\/folder does not exist\nRun `flowgate validate --help`/);
    assert.equal((await flowgate(['start', 'now'])).code, EXIT.usage);
    assert.equal((await flowgate(['start'], { PORT: 'eighty' })).code, EXIT.usage, 'invalid configuration');
    assert.equal((await flowgate(['backup:restore'], { MONGODB_URI: uniqueDatabaseUri('cli_usage'), FLOWGATE__plugins: '["backup"]' })).code, EXIT.usage, 'a plugin command refusing its arguments');
  });

  it('validate: 0 when every workflow is valid, 1 with each issue when one is not', async () => {
    const shipped = await flowgate(['validate']);
    assert.equal(shipped.code, EXIT.ok, shipped.stdout);
    assert.match(shipped.stdout, /\d+ valid, 0 invalid/);
    const invalid = await flowgate(['validate', 'tests/fixtures/cli']);
    assert.equal(invalid.code, EXIT.failure);
    assert.match(invalid.stdout, /✗ tests\/fixtures\/cli\/unknown-action\.json\n.*nowhere\.nothing@1/);
  });

  it('validate: loads a plugin by path from the configuration, as for the example plugin\'s workflows', async () => {
    const run = await flowgate(['validate', 'examples/quiet-hours/workflows'], { FLOWGATE__plugins: '["flow","http","whatsapp","./dist/examples/quiet-hours/index.js"]' });
    assert.equal(run.code, EXIT.ok, run.stdout + run.stderr);
    assert.match(run.stdout, /appointment-reminder: http\.webhook@1 → 1 step\(s\)[\s\S]*notify-deferred: quiet-hours\.deferred@1 → 1 step\(s\)[\s\S]*2 valid, 0 invalid/);
    const without = await flowgate(['validate', 'examples/quiet-hours/workflows'], { FLOWGATE__plugins: '["flow","http","whatsapp"]' });
    assert.equal(without.code, EXIT.failure, 'without the plugin its types are unknown');
  });

  it('test: 1 when a fixture case fails', async () => {
    const failing = await flowgate(['test', 'tests/fixtures/workflows'], { MONGODB_URI: uniqueDatabaseUri('cli_test') });
    assert.equal(failing.code, EXIT.failure);
    assert.match(failing.stdout, /FAIL/);
  });

  it('audit:verify shows its progress on stderr and the verdict on stdout, exit 0 on an intact chain', async () => {
    const keyPrefix = `t${randomBytes(4).toString('hex')}:`;
    const keys = { pseudonymKey: 'p'.repeat(32), signingKey: 's'.repeat(32) };
    const t = await startTestServer({ label: 'cli_verify', plugins: ['audit'], pluginSettings: { audit: { sealDelayMs: 100, ...keys } }, config: { redis: { keyPrefix } } });
    try {
      const log = t.server.get(AuditLog);
      for (let i = 0; i < 30; i++) await log.record({ actor: { kind: 'system', id: 'cli-test' }, action: 'test.happened', resource: { type: 'thing', id: String(i) } });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await t.server.get(DigestSealer).seal();
    } finally {
      await t.stop();
    }
    const verified = await flowgate(['audit:verify'], {
      MONGODB_URI: t.mongodbUri, FLOWGATE__plugins: '["audit"]', FLOWGATE__redis__keyPrefix: keyPrefix,
      FLOWGATE__pluginSettings__audit__pseudonymKey: keys.pseudonymKey, FLOWGATE__pluginSettings__audit__signingKey: keys.signingKey,
    });
    assert.equal(verified.code, EXIT.ok, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^OK: \d+ digests, 30 sealed entries checked/);
    // Progress is reported every thousand entries and at the end (tests/core/cli/progress-bar.test.ts shows the steps).
    assert.equal(verified.stderr, `verify [${'#'.repeat(30)}] 100% 30/30 entries  audit log\n`);
  });

  it('refuses a plugin alias that takes a core command or another command\'s name', () => {
    @injectable()
    class Noop implements CommandHandler { async run(): Promise<number> { return 0; } }
    const contributions = new Contributions();
    contributions.addCommand('one', { name: 'one:run', summary: 'runs', aliases: ['run'], handler: Noop });
    const refused = (aliases: string[], code: string) => assert.throws(
      () => contributions.addCommand('two', { name: `two:x${aliases.length}${code.length}`, summary: 'x', aliases, handler: Noop }),
      (error: CoreError) => error.code === code && error.message.includes('two'),
    );
    refused(['start'], 'PLUGIN_TYPE_INVALID');
    refused(['Run Now'], 'PLUGIN_TYPE_INVALID');
    refused(['run'], 'PLUGIN_DUPLICATE_TYPE');
    refused(['one:run'], 'PLUGIN_DUPLICATE_TYPE');
    assert.equal(contributions.findCommand('run')?.definition.name, 'one:run');
  });
});

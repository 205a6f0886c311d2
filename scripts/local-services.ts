/**
 * Local FerretDB and Redis for `npm start`, `npm test` and `npm run bench` when
 * MONGODB_URI / REDIS_URL are not given. Each server listens on loopback only, keeps its data
 * under the git-ignored `.data/` folder and is stopped by PID by whoever started it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const FERRETDB_VERSION = 'v1.24.2';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
const cacheDir = process.env.FLOWGATE_CACHE_DIR ?? join(homedir(), '.cache', 'flowgate');
interface SourcePatch {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/**
 * FerretDB v1.24.2's SQLite backend looks documents up by `_id` with the expression
 * `_ferretdb_sjson->'$._id'`, but creates the `_id` index on `_ferretdb_sjson->"_id"`. SQLite
 * uses an expression index only for the same expression, so every find, update and delete by
 * `_id` scanned the whole table (EXPLAIN QUERY PLAN: `SCAN`, not `SEARCH … USING INDEX`), and
 * every write that names a document got slower as its collection grew. Both expressions select
 * the same value; the build makes lookups use the index's own.
 */
const ID_LOOKUP_PATCH: SourcePatch = {
  file: join('internal', 'backends', 'sqlite', 'metadata', 'metadata.go'),
  from: `IDColumn = DefaultColumn + "->'$._id'"`,
  to: 'IDColumn = DefaultColumn + `->"_id"`',
};

/**
 * FerretDB v1 runs an update as a read and a write on separate SQLite connections, with nothing
 * between them: two connections updating one document lose one update (40 parallel `$inc` from 40
 * connections kept 3–4) and conditional `findOneAndUpdate` claims have several winners (28–30
 * rounds of 30), where MongoDB makes each single-document write atomic. The build runs the write
 * commands on one collection one at a time across all connections (reads, and writes to other
 * collections, still run beside them): each write command is then atomic, as on MongoDB (40 of 40
 * kept, no double winner).
 */
const SERIAL_WRITES_PATCH: SourcePatch = {
  file: join('internal', 'clientconn', 'conn.go'),
  from: 'resMsg, err = c.handleOpMsg(connCtx, msg, command)',
  to: 'resMsg, err = oneWriteAtATime(document, command, func() (*wire.OpMsg, error) { return c.handleOpMsg(connCtx, msg, command) })',
};
const SERIAL_WRITES_SOURCE = {
  file: join('internal', 'clientconn', 'serial_writes.go'),
  text: `package clientconn

import (
\t"sync"

\t"github.com/FerretDB/wire"

\t"github.com/FerretDB/FerretDB/internal/types"
)

// Write commands on one collection run one at a time across all connections (Flowgate build patch).
var writeCommands = map[string]bool{
\t"insert": true, "update": true, "delete": true, "findAndModify": true,
\t"create": true, "drop": true, "createIndexes": true, "dropIndexes": true,
}

var collectionLocks sync.Map // "<db>.<collection>" -> *sync.Mutex

func oneWriteAtATime(document *types.Document, command string, handle func() (*wire.OpMsg, error)) (*wire.OpMsg, error) {
\tif writeCommands[command] {
\t\tdb, _ := document.Get("$db")
\t\tcollection, _ := document.Get(command)
\t\tdbName, _ := db.(string)
\t\tcollectionName, _ := collection.(string)
\t\tlock, _ := collectionLocks.LoadOrStore(dbName+"."+collectionName, new(sync.Mutex))
\t\tlock.(*sync.Mutex).Lock()
\t\tdefer lock.(*sync.Mutex).Unlock()
\t}
\treturn handle()
}
`,
};
/**
 * FerretDB v1.24.2's SQLite backend serves a filter from the `_id` index only when the filter is
 * `{_id}` alone: `{_id, status: 'sending'}` — a conditional update — scanned the whole collection
 * (100–121 ms at 5,000 documents against 1 ms). Every handler applies the whole filter again to
 * what the backend returns (FerretDB does not trust its pushdown), so the build looks the document
 * up by `_id` whenever the filter names one, whatever else it says.
 */
const ID_PUSHDOWN_PATCH: SourcePatch = {
  file: join('internal', 'backends', 'sqlite', 'collection.go'),
  from: 'if params.Filter.Len() == 1 {\n\t\tv, _ := params.Filter.Get("_id")',
  to: 'if params.Filter.Len() > 0 && params.Filter.Has("_id") {\n\t\tv, _ := params.Filter.Get("_id")',
};
/**
 * Announces the two patches above in `buildInfo` (`ferretdbFeatures.flowgateAtomicWrites`), so
 * the server knows it may send conditional writes as it does to MongoDB (see MongoConnection).
 */
const BUILD_INFO_PATCH: SourcePatch = {
  file: join('internal', 'handler', 'msg_buildinfo.go'),
  from: '"aggregationStages", aggregationStages,',
  to: '"aggregationStages", aggregationStages,\n\t\t\t\t"flowgateAtomicWrites", true,',
};
/** The binary's name lists its patches, so a cached build without one of them is not reused. */
const ferretBinary = join(cacheDir, 'bin', `ferretdb-${FERRETDB_VERSION}-id-index-collection-writes-id-pushdown`);

function applyPatch(root: string, patch: SourcePatch): void {
  const path = join(root, patch.file);
  chmodSync(path, 0o644);
  const source = readFileSync(path, 'utf8');
  if (!source.includes(patch.from)) throw new Error(`FerretDB source changed: ${patch.file} no longer has ${patch.from}`);
  writeFileSync(path, source.replace(patch.from, patch.to));
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], cwd?: string): void {
  const result = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  if (result.error) throw new Error(`${cmd} ${args.join(' ')} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Builds FerretDB once into the user cache. `go install …@version` alone yields a binary that
 * panics at start ("Invalid build/version/version.txt"): the module ships without the generated
 * version file, so we build from the downloaded module source with that file written in.
 */
export function ensureFerretDb(): string {
  if (existsSync(ferretBinary)) return ferretBinary;
  if (!hasCommand('go')) {
    throw new Error('FerretDB is not built and no Go toolchain was found: install Go (https://go.dev/dl) or set MONGODB_URI.');
  }
  console.error(`[services] building FerretDB ${FERRETDB_VERSION} (first run only: a few minutes)…`);
  run('go', ['mod', 'download', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`]);
  const listed = spawnSync('go', ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], { encoding: 'utf8' });
  const moduleDir = (JSON.parse(listed.stdout) as { Dir: string }).Dir;
  const work = mkdtempSync(join(tmpdir(), 'ferretdb-src-'));
  try {
    cpSync(moduleDir, work, { recursive: true });
    chmodSync(join(work, 'build', 'version'), 0o755);
    writeFileSync(join(work, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    applyPatch(work, ID_LOOKUP_PATCH);
    applyPatch(work, SERIAL_WRITES_PATCH);
    applyPatch(work, ID_PUSHDOWN_PATCH);
    applyPatch(work, BUILD_INFO_PATCH);
    chmodSync(join(work, 'internal', 'clientconn'), 0o755);
    writeFileSync(join(work, SERIAL_WRITES_SOURCE.file), SERIAL_WRITES_SOURCE.text);
    mkdirSync(join(cacheDir, 'bin'), { recursive: true });
    run('go', ['build', '-trimpath', '-o', `${ferretBinary}.tmp`, './cmd/ferretdb'], work);
    run('mv', [`${ferretBinary}.tmp`, ferretBinary]);
  } finally {
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
  return ferretBinary;
}

export function ensureRedisServer(): string {
  if (hasCommand('redis-server')) return 'redis-server';
  if (process.getuid?.() === 0 && hasCommand('apt-get')) {
    console.error('[services] installing redis-server from Debian packages…');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'redis-server']);
    if (hasCommand('redis-server')) return 'redis-server';
  }
  throw new Error('redis-server was not found: install it (Debian: apt-get install redis-server) or set REDIS_URL.');
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => { clearTimeout(force); resolve(); });
    child.kill('SIGTERM');
  });
}

/**
 * `sqliteParams` are query parameters FerretDB hands to its SQLite driver (`_pragma=name(value)`,
 * several joined with `&`); FerretDB itself sets busy_timeout(10000), journal_mode(wal) and
 * auto_vacuum(none) unless given.
 */
export async function startFerretDb(dataDir: string, port?: number, options: { sqliteParams?: string } = {}): Promise<RunningService> {
  const binary = ensureFerretDb();
  mkdirSync(dataDir, { recursive: true });
  const listenPort = port ?? await freePort();
  const query = options.sqliteParams ? `?${options.sqliteParams}` : '';
  const child = spawn(binary, [
    '--handler=sqlite', `--sqlite-url=file:${dataDir}/${query}`, `--listen-addr=127.0.0.1:${listenPort}`,
    '--telemetry=disable', `--state-dir=${dataDir}`, '--debug-addr=-', '--log-level=error',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(listenPort, child, 'FerretDB');
  // One connection per process: see docs/architecture.md ("One connection per process").
  return { name: 'ferretdb', port: listenPort, pid: child.pid ?? 0, url: `mongodb://127.0.0.1:${listenPort}/flowgate?maxPoolSize=1`, stop: stopper(child) };
}

export async function startRedis(dataDir: string, port?: number): Promise<RunningService> {
  const binary = ensureRedisServer();
  mkdirSync(dataDir, { recursive: true });
  const listenPort = port ?? await freePort();
  const child = spawn(binary, [
    '--port', String(listenPort), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'everysec', '--daemonize', 'no', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(listenPort, child, 'redis-server');
  return { name: 'redis', port: listenPort, pid: child.pid ?? 0, url: `redis://127.0.0.1:${listenPort}`, stop: stopper(child) };
}

/**
 * Database and Redis servers owned by one test, so the test can stop and restart them (by PID,
 * through the handle that started them) without touching the servers the rest of the suite uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startFerretDb, startRedis, type RunningService } from '../../scripts/local-services.js';

export interface OwnedService {
  /** Connection URL; for FerretDB with a database name of the test's own. */
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, as a crash or a pulled cable would: no goodbye to the clients. */
  kill(): Promise<void>;
  /** Starts again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops for good and removes the data. */
  dispose(): Promise<void>;
}

async function own(kind: 'ferretdb' | 'redis', database?: string): Promise<OwnedService> {
  const dir = mkdtempSync(join(tmpdir(), `flowgate-${kind}-`));
  const port = await freePort();
  const boot = () => (kind === 'ferretdb' ? startFerretDb(dir, port) : startRedis(dir, port));
  let running: RunningService | null = await boot();
  const base = running.url;
  const url = database ? base.replace('/flowgate?', `/${database}?`) : base;
  const kill = async () => {
    const current = running;
    running = null;
    if (!current) return;
    process.kill(current.pid, 'SIGKILL');
    await current.stop(); // resolves once the process has exited
  };
  return {
    url,
    get pid() { return running?.pid ?? 0; },
    kill,
    async restart() { running ??= await boot(); },
    async dispose() {
      await running?.stop();
      running = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A FerretDB of the test's own (SQLite data in a temporary folder). */
export const ownFerretDb = (database: string): Promise<OwnedService> => own('ferretdb', database);
/** A redis-server of the test's own. */
export const ownRedis = (): Promise<OwnedService> => own('redis');

/**
 * Runs a command with MONGODB_URI and REDIS_URL set, starting a local FerretDB and Redis for
 * whichever is missing, and stopping them when the command exits. Usage:
 *   node dist/scripts/with-services.js [--persist NAME] -- <command> [args…]
 * With --persist the data folder `.data/NAME` is kept between runs (npm start); otherwise a
 * fresh folder is used and removed afterwards (tests, benchmarks).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startFerretDb, startRedis, type RunningService } from './local-services.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const split = argv.indexOf('--');
  const options = split >= 0 ? argv.slice(0, split) : [];
  const command = split >= 0 ? argv.slice(split + 1) : argv;
  const first = command[0];
  if (!first) {
    console.error('usage: with-services [--persist NAME] -- <command> [args…]');
    return 2;
  }
  const persistAt = options.indexOf('--persist');
  const persistName = persistAt >= 0 ? options[persistAt + 1] : undefined;
  const dataDir = resolve('.data', persistName ?? `run-${process.pid}`);
  const started: RunningService[] = [];
  const env = { ...process.env };
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.stop()));
    if (!persistName) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (!env.MONGODB_URI) {
      const mongo = await startFerretDb(join(dataDir, 'ferretdb'));
      started.push(mongo);
      env.MONGODB_URI = mongo.url;
    }
    if (!env.REDIS_URL) {
      const redis = await startRedis(join(dataDir, 'redis'));
      started.push(redis);
      env.REDIS_URL = redis.url;
    }
  } catch (error) {
    console.error(`[services] ${(error as Error).message}`);
    await stopAll();
    return 1;
  }
  if (started.length) console.error(`[services] ${started.map((s) => `${s.name} on 127.0.0.1:${s.port} (pid ${s.pid})`).join(', ')}`);
  const child = spawn(first, command.slice(1), { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const code = await new Promise<number>((done) => child.on('exit', (c, s) => done(c ?? (s ? 1 : 0))));
  await stopAll();
  return code;
}

process.exitCode = await main();

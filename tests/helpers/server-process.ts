/**
 * Runs Flowgate as a separate OS process (the real CLI), so tests can kill it with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../core/paths.js';
import { freePort } from '../../scripts/local-services.js';
import { eventually, type TestServer } from './test-host.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServerProcess(options: { mongodbUri: string; plugins: unknown[]; env?: Record<string, string>; startTimeoutMs?: number; logs?: NodeJS.WritableStream }): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(projectRoot, 'dist/core/cli/flowgate.js'), 'start'], {
    cwd: projectRoot,
    env: {
      ...process.env, NODE_ENV: 'test', MONGODB_URI: options.mongodbUri, PORT: String(port),
      FLOWGATE__plugins: JSON.stringify(options.plugins), ...(options.env ?? {}),
    },
    stdio: ['ignore', options.logs ? 'pipe' : 'ignore', 'pipe'],
  });
  if (options.logs) child.stdout?.pipe(options.logs);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
      return (await fetch(`${url}/api/health`)).ok;
    }, options.startTimeoutMs ?? 30_000, 100);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    url,
    child,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    }),
  };
}

/**
 * For tests that kill a process and let another take over: returns `track`, which registers a
 * server process or an in-process server; after each test every one tracked is killed or
 * stopped, in the order started, however the test ended.
 */
export function stopAfterEach(): <T extends ServerProcess | TestServer>(started: T) => T {
  const running: Array<ServerProcess | TestServer> = [];
  afterEach(async () => {
    for (const started of running.splice(0)) await ('kill' in started ? started.kill() : started.stop());
  });
  return (started) => {
    running.push(started);
    return started;
  };
}

/**
 * What bench/stop-flow.ts measures around the processes it starts: Flowgate as real CLI
 * processes (and the hand-written baseline) on free loopback ports, their CPU time and peak
 * resident memory from /proc, and a closed-loop webhook load generator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of /proc/PID/stat, counted from after the name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory now and its peak (VmHWM) in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/** A child process that answers HTTP on `url`; stopped with SIGTERM (SIGKILL after 10 s). */
export interface Started {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const live = new Set<Started>();

/** Stops every process `startProcess` started that is still running (on SIGINT/SIGTERM). */
export async function stopStarted(): Promise<void> {
  await Promise.all([...live].map((started) => started.stop()));
}

export async function startProcess(args: string[], env: NodeJS.ProcessEnv, url: string, readyPath: string, label: string, cwd?: string): Promise<Started> {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`[${label}] ${chunk.toString()}`);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}: ${stderr}`);
    const up = await fetch(`${url}${readyPath}`).then((r) => r.status < 500, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label} did not answer within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const started: Started = {
    url, pid: child.pid ?? 0, child,
    stop: () => new Promise<void>((resolve) => {
      live.delete(started);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(force); resolve(); });
      child.kill('SIGTERM');
    }),
  };
  live.add(started);
  return started;
}

export interface Sent {
  phone: string;
  sentAt: number;
  ackedAt?: number;
  status?: number;
}

/**
 * Sends `count` signed webhooks, each from a new phone, over `connections` keep-alive
 * connections spread over `urls` (closed loop: a connection sends its next request when the
 * last was answered). Stops early at `maxSeconds`.
 */
export async function sendWebhooks(options: {
  urls: string[]; connections: number; count: number; maxSeconds: number; secret: string;
  payload: (phone: string, n: number) => unknown; phone: (n: number) => string; onSend?: (sent: Sent) => void;
}): Promise<Sent[]> {
  const agents = options.urls.map(() => new http.Agent({ keepAlive: true, maxSockets: options.connections }));
  const sent: Sent[] = [];
  const until = Date.now() + options.maxSeconds * 1000;
  let next = 0;
  const one = (connection: number) => new Promise<void>((resolve) => {
    const n = next++;
    const phone = options.phone(n);
    const data = JSON.stringify(options.payload(phone, n));
    const target = connection % options.urls.length;
    const record: Sent = { phone, sentAt: performance.now() };
    sent.push(record);
    options.onSend?.(record);
    const request = http.request(`${options.urls[target]}/webhooks/whatsapp`, {
      method: 'POST', agent: agents[target],
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'x-hub-signature-256': `sha256=${createHmac('sha256', options.secret).update(data).digest('hex')}` },
    }, (response) => {
      response.resume();
      response.on('end', () => { record.ackedAt = performance.now(); record.status = response.statusCode; resolve(); });
    });
    request.on('error', () => { record.ackedAt = performance.now(); record.status = 0; resolve(); });
    request.end(data);
  });
  await Promise.all(Array.from({ length: options.connections }, async (_, connection) => {
    while (next < options.count && Date.now() < until) await one(connection);
  }));
  for (const agent of agents) agent.destroy();
  return sent;
}

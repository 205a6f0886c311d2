/**
 * Boots a real Flowgate server for a test: the real container, plugins, FerretDB/MongoDB and
 * Redis, on a free loopback port, with a database of its own so test files do not see each
 * other's data.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { loadConfig } from '../../core/config/load-config.js';
import type { FlowgateConfig } from '../../core/config/config-schema.js';
import { projectRoot } from '../../core/paths.js';
import { FlowgateServer } from '../../core/server.js';
import type { Logger } from 'winston';

export const STATIC_AUTH_PLUGIN = { from: './dist/tests/fixtures/plugins/static-auth/index.js' };
/** The core-test fixture plugin: a route with a nested body schema, a metric, a model and a job. */
export const CORE_PROBE_PLUGIN = './dist/tests/fixtures/plugins/core-probe/index.js';

/** A database name unique to this test run and call. */
export function uniqueDatabaseUri(label: string): string {
  const base = process.env.MONGODB_URI as string;
  const url = new URL(base);
  url.pathname = `/t_${label.replace(/\W/g, '_').slice(0, 20)}_${randomBytes(3).toString('hex')}`;
  return url.toString();
}

export interface TestServerOptions {
  /** Plugins besides the test authenticator (which is always loaded unless `auth: false`). */
  plugins?: FlowgateConfig['plugins'];
  pluginSettings?: Record<string, unknown>;
  auth?: boolean;
  /** Extra config overrides. */
  config?: Record<string, unknown>;
  /** Reuse a database (several processes or restarts sharing data). */
  mongodbUri?: string;
  redisUrl?: string;
  logger?: Logger;
  label?: string;
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestServer {
  server: FlowgateServer;
  url: string;
  mongodbUri: string;
  /** Sends a request; `as` picks a role's token from the static test authenticator. */
  request<T = unknown>(method: string, path: string, options?: { as?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> }): Promise<HttpResult<T>>;
  /** A connected client; `as` picks a static test role, `auth` sends other credentials (a real JWT or API key). */
  socket(options?: { as?: string; auth?: { token?: string; apiKey?: string } }): Promise<Socket>;
  stop(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const mongodbUri = options.mongodbUri ?? uniqueDatabaseUri(options.label ?? 'test');
  const plugins = [...(options.auth === false ? [] : [STATIC_AUTH_PLUGIN]), ...(options.plugins ?? ['hello'])];
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: mongodbUri, REDIS_URL: options.redisUrl ?? process.env.REDIS_URL },
    overrides: { plugins, pluginSettings: options.pluginSettings ?? {}, ...(options.config ?? {}) },
  });
  const server = new FlowgateServer(config, options.logger);
  await server.start();
  const url = server.url;
  const sockets: Socket[] = [];
  return {
    server,
    url,
    mongodbUri,
    async request<T>(method: string, path: string, opts: { as?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.as) headers.authorization ??= `Bearer role:${opts.as}`;
      let body: string | Buffer | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method: method.toUpperCase(), headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON: keep the text */ }
      return { status: response.status, headers: response.headers, body: parsed as T, text };
    },
    async socket(opts: { as?: string; auth?: { token?: string; apiKey?: string } } = {}) {
      const socket = io(url, { transports: ['websocket'], auth: opts.auth ?? (opts.as ? { token: `role:${opts.as}` } : {}), reconnection: false, forceNew: true });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    },
    async stop() {
      for (const socket of sockets) socket.disconnect();
      await server.stop();
    },
  };
}

/** Waits for one event on a socket, failing after `timeoutMs`. */
export function nextEvent<T = Record<string, unknown>>(socket: Socket, event: string, timeoutMs = 5_000, filter: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, handler); reject(new Error(`no ${event} event within ${timeoutMs} ms`)); }, timeoutMs);
    const handler = (payload: T) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    };
    socket.on(event, handler);
  });
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The express application: request ids and per-request loggers, security headers, latency
 * metrics, the declared routes, and the one error envelope for everything that goes wrong.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'winston';
import { HttpError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { isStorageOutage } from '../storage/mongo.js';
import type { RouteDefinition } from '../plugin-api.js';
import type { RequestLimiter } from './request-limits.js';
import { RouteMounter, storageUnavailable, type MountOptions } from './route-mounter.js';

const REQUEST_ID = /^[\w.-]{1,128}$/;

export interface HttpAppOptions extends MountOptions {
  trustProxy: boolean;
  logger: Logger;
  metrics: Metrics;
  routes: ReadonlyArray<{ plugin: string; route: RouteDefinition }>;
  /** Per-address and per-credential request limits; null when switched off. */
  limiter: RequestLimiter | null;
  /** Why changes are refused right now (a restore is running), or null. */
  writesPausedBy(): string | null;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Seconds a client (or Meta, for webhooks) is told to wait before trying a refused change again. */
const MAINTENANCE_RETRY_AFTER = '30';

export function errorBody(code: string, message: string, details: unknown, requestId: string): unknown {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId } };
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  app.set('query parser', 'simple');
  app.use(helmet({
    contentSecurityPolicy: {
      directives: { 'default-src': ["'self'"], 'connect-src': ["'self'", 'ws:', 'wss:'], 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"] },
    },
  }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    Object.assign(req, { requestId, log: options.logger.child({ requestId }) });
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      options.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      (req as Request & { log: Logger }).log.http('request', { method: req.method, route, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000) });
    });
    next();
  });

  const limiter = options.limiter;
  if (limiter) {
    // Counted before the body is read or credentials are checked: the cheapest place to turn a flood away.
    app.use((req: Request, _res: Response, next: NextFunction) => {
      if (limiter.exempt(req.path)) return next();
      limiter.checkAddress(req.ip ?? '').then(() => next(), next);
    });
  }

  // A change accepted during a restore would be overwritten by it, or mix old and new data: refuse
  // it whole with 503 and Retry-After, so API clients retry and Meta redelivers webhooks later.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const reason = READ_METHODS.has(req.method) ? null : options.writesPausedBy();
    if (!reason) return next();
    next(new HttpError(503, 'MAINTENANCE', `Flowgate is in maintenance (${reason}): nothing was changed; try again later`, { reason }, { 'Retry-After': MAINTENANCE_RETRY_AFTER }));
  });

  const mounter = new RouteMounter(options);
  const router = express.Router({ strict: false });
  for (const { route } of options.routes) mounter.mount(router, route);
  app.use(router);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${req.method} ${req.path}`));
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = (req as Request & { requestId?: string }).requestId ?? '';
    const log = (req as Request & { log?: Logger }).log ?? options.logger;
    const { status, code, message, details, headers } = classify(error);
    if (status === 503) log.warn('request refused for now', { code });
    else if (status >= 500) log.error('request failed', { error: error instanceof Error ? error : String(error), code });
    if (res.headersSent) return void res.end();
    for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
    res.status(status).json(errorBody(code, message, details, requestId));
  });
  return app;
}

interface Classified { status: number; code: string; message: string; details?: unknown; headers?: Record<string, string> }

/** Maps thrown errors to the envelope: ours carry their status; body-parser's have a `type`. */
function classify(error: unknown): Classified {
  if (error instanceof HttpError) return error;
  if (isStorageOutage(error)) return storageUnavailable();
  const parserError = error as { type?: string; status?: number; message?: string; limit?: number; length?: number };
  switch (parserError.type) {
    case 'entity.parse.failed':
      return { status: 400, code: 'MALFORMED_JSON', message: `The body is not valid JSON: ${parserError.message}` };
    case 'entity.too.large':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `The body is larger than the ${parserError.limit} bytes this route accepts`, details: { limit: parserError.limit, length: parserError.length } };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: parserError.message ?? 'Unsupported encoding' };
    case 'request.aborted':
      return { status: 400, code: 'REQUEST_ABORTED', message: 'The client aborted the request' };
    default:
      if (parserError.status && parserError.status >= 400 && parserError.status < 500) {
        return { status: parserError.status, code: 'BAD_REQUEST', message: parserError.message ?? 'Bad request' };
      }
      return { status: 500, code: 'INTERNAL', message: 'Something went wrong on our side; the request id identifies it in the logs' };
  }
}

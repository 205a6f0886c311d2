/**
 * Mounts declared routes on express: body parsing with limits, request validation against the
 * declared schemas, authentication and the permission check, the handler, and (when configured)
 * response validation. Everything a caller gets wrong becomes a 4xx in the one error envelope.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ValidateFunction } from 'ajv';
import type { Logger } from 'winston';
import { HttpError } from '../errors.js';
import type { ApiRequest, Authenticator, JsonSchema, Principal, RouteDefinition } from '../plugin-api.js';
import { createAjv, describeErrors, SchemaCache } from '../schema/ajv.js';
import type { CoreEventMap } from '../events/core-events.js';
import { redact } from '../logging/logger.js';
import type { RequestLimiter } from './request-limits.js';

export interface MountOptions {
  bodyLimit: string;
  validateResponses: boolean;
  authenticator: () => Authenticator | null;
  /** Told about every answered mutating request (the audit plugin listens). */
  onMutation: (event: CoreEventMap['api.request']) => void;
  /** False while the database is known to be unreachable: routes that need it answer 503 at once. */
  storageReady: () => boolean;
  limiter: RequestLimiter | null;
}

/** What a caller is told to wait before retrying while the database is unreachable. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/** 503 with Retry-After: webhook senders (Meta) and well-behaved clients deliver again later. */
export function storageUnavailable(): HttpError {
  return new HttpError(503, 'STORAGE_UNAVAILABLE', 'The database cannot be reached; nothing was stored. Retry later',
    { retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS }, { 'Retry-After': String(STORAGE_RETRY_AFTER_SECONDS) });
}

type RequestWithState = Request & { rawBody?: Buffer; requestId: string; log: Logger; principal?: Principal | null };

const NO_QUERY: JsonSchema = { type: 'object', additionalProperties: false };

/** Keys that could reach a prototype or act as a query operator once stored. */
const FORBIDDEN_KEY = /^(__proto__|constructor|prototype)$|^\$(?!schema$)/;

/**
 * The path of the first forbidden key in a parsed body, or null. Checked after parsing because
 * body-parser reports anything a JSON reviver throws as a syntax error.
 */
function findForbiddenKey(value: unknown, path = 'body', depth = 0): string | null {
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    const innerPath = Array.isArray(value) ? `${path}[${key}]` : /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    if (!Array.isArray(value) && FORBIDDEN_KEY.test(key)) return innerPath;
    const found = findForbiddenKey(inner, innerPath, depth + 1);
    if (found) return found;
  }
  return null;
}

export class RouteMounter {
  private readonly requestSchemas = new SchemaCache(createAjv({ coerceTypes: false, useDefaults: true }));
  private readonly querySchemas = new SchemaCache(createAjv({ coerceTypes: true, useDefaults: true }));
  private readonly responseSchemas = new SchemaCache(createAjv());

  constructor(private readonly options: MountOptions) {}

  mount(router: Router, route: RouteDefinition): void {
    const validators = {
      params: route.params ? this.requestSchemas.get(route.params) : null,
      // A route that declares no query takes none (unknown fields are refused, as in bodies);
      // public reads such as probes may get cache-busting parameters and ignore them.
      query: route.query ? this.querySchemas.get(route.query) : route.method === 'get' && route.permission === 'public' ? null : this.querySchemas.get(NO_QUERY),
      body: route.body ? this.requestSchemas.get(route.body) : null,
    };
    const responses = new Map<number, ValidateFunction>();
    for (const [status, response] of Object.entries(route.responses)) {
      if (response.schema && (!response.contentType || [response.contentType].flat().includes('application/json'))) {
        responses.set(Number(status), this.responseSchemas.get(response.schema));
      }
    }
    const handlers: express.RequestHandler[] = [];
    if (route.method !== 'get' && route.method !== 'delete') {
      handlers.push(this.bodyParser(route));
    }
    // Public reads (probes, the OpenAPI document, webhook handshakes) need no database; everything
    // else authenticates against it or writes to it.
    const needsStorage = !(route.method === 'get' && route.permission === 'public');
    handlers.push(async (req, res, next) => {
      const request = req as RequestWithState;
      try {
        // Fail fast rather than queue behind the driver's reconnect: a webhook sender waits for no one.
        if (needsStorage && !this.options.storageReady()) throw storageUnavailable();
        request.principal = await this.authorize(route, request);
        if (request.principal && this.options.limiter) await this.options.limiter.checkPrincipal(request.principal);
        const params = validate(validators.params, { ...req.params }, 'params');
        const query = validate(validators.query, { ...(req.query as Record<string, unknown>) }, 'query');
        if (route.body && req.body === undefined) {
          throw new HttpError(400, 'BODY_REQUIRED', 'This request needs a JSON body');
        }
        const body = validate(validators.body, req.body, 'body');
        const apiRequest: ApiRequest = {
          params: params as Record<string, string>,
          query: query as Record<string, unknown>,
          body,
          principal: request.principal,
          requestId: request.requestId,
          ip: req.ip ?? '',
          logger: request.log,
          rawBody: request.rawBody,
          headers: req.headers,
        };
        if (route.method !== 'get') {
          res.once('finish', () => (route.audit === 'refused' && res.statusCode < 400) || this.options.onMutation({
            method: route.method.toUpperCase(), route: route.path, params: apiRequest.params, status: res.statusCode,
            principal: apiRequest.principal, requestId: apiRequest.requestId, ip: apiRequest.ip, body: redact(body),
          }));
        }
        const result = await route.handler(apiRequest, res);
        if (result === undefined || res.headersSent) return;
        const status = result.status ?? (result.body === undefined ? 204 : 200);
        const check = responses.get(status);
        if (this.options.validateResponses && check && !check(result.body)) {
          request.log.error('response does not match its declared schema', { route: `${route.method} ${route.path}`, issues: describeErrors(check.errors) });
          throw new HttpError(500, 'RESPONSE_SCHEMA_MISMATCH', `Response of ${route.method.toUpperCase()} ${route.path} does not match its schema`, describeErrors(check.errors, 'response.'));
        }
        for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
        if (result.body === undefined) res.status(status).end();
        else res.status(status).json(result.body);
      } catch (error) {
        next(error);
      }
    });
    router[route.method](route.path, ...handlers);
  }

  private bodyParser(route: RouteDefinition): express.RequestHandler {
    const json = express.json({
      limit: route.bodyLimit ?? this.options.bodyLimit,
      strict: true,
      type: () => true,
      verify: route.rawBody ? (req, _res, buf) => { (req as RequestWithState).rawBody = Buffer.from(buf); } : undefined,
    });
    return (req: Request, res: Response, next: NextFunction) => {
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      if (!hasBody) return next();
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        return next(new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json (got ${type ? JSON.stringify(type) : 'no content type'})`));
      }
      json(req, res, (error?: unknown) => {
        if (error) return next(error);
        const forbidden = findForbiddenKey(req.body);
        if (forbidden) return next(new HttpError(400, 'FORBIDDEN_KEY', `${forbidden} is a key no request may use`, [{ path: forbidden, message: 'is not an allowed key' }]));
        next();
      });
    };
  }

  private async authorize(route: RouteDefinition, req: RequestWithState): Promise<Principal | null> {
    const authenticator = this.options.authenticator();
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '') : undefined;
    const apiKey = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined;
    if (route.permission === 'public') {
      return authenticator && (bearer || apiKey) ? authenticator.authenticate({ bearerToken: bearer, apiKey, ip: req.ip ?? '' }).catch(() => null) : null;
    }
    if (header && !bearer) throw new HttpError(401, 'UNAUTHENTICATED', 'Authorization must be a Bearer token', undefined, { 'WWW-Authenticate': 'Bearer' });
    if (!authenticator) throw new HttpError(401, 'UNAUTHENTICATED', 'No authenticator is configured; this route needs one', undefined, { 'WWW-Authenticate': 'Bearer' });
    const principal = await authenticator.authenticate({ bearerToken: bearer, apiKey, ip: req.ip ?? '' });
    if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', 'Send a Bearer token or an X-Api-Key header', undefined, { 'WWW-Authenticate': 'Bearer' });
    if (!principal.permissions.has(route.permission)) {
      throw new HttpError(403, 'FORBIDDEN', `Your role ${principal.role} lacks the permission ${route.permission}`, { required: route.permission, role: principal.role });
    }
    return principal;
  }
}

function validate(check: ValidateFunction | null, value: unknown, where: 'params' | 'query' | 'body'): unknown {
  if (!check) return value;
  if (!check(value)) {
    const issues = describeErrors(check.errors, `${where}.`);
    const first = issues[0];
    throw new HttpError(400, 'VALIDATION_FAILED', `${first?.path} ${first?.message}`, issues);
  }
  return value;
}

/** JSON Schema pieces reused by many routes. */
export const commonSchemas = {
  objectId: { type: 'string', pattern: '^[a-f0-9]{24}$' },
  errorEnvelope: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' }, details: {}, requestId: { type: 'string' } },
      },
    },
  },
} satisfies Record<string, JsonSchema>;

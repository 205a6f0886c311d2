/**
 * The authorization matrix, generated from the route registry of a server that loads every
 * plugin built into dist/plugins: for each protected route, no token and a bad token get 401,
 * the role just below the lowest one holding the permission gets 403, and that role gets in.
 * A new route is covered the moment it is registered.
 */
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import { builtinPluginDir } from '../../../core/paths.js';
import { PermissionCatalog, ROLES, type RoleName, type RouteDefinition } from '../../../core/index.js';
import { JWT_SECRET, startIdentityServer, type IdentityTestServer, type SignedIn } from './identity-host.js';

const builtinPlugins = readdirSync(builtinPluginDir).filter((name) => existsSync(join(builtinPluginDir, name, 'index.js')));

/** Public on purpose: liveness, docs, sign-in, and webhooks (provider and workflow) that check their own signatures. */
const PUBLIC_ROUTES = /^(get \/api\/(health|ready|openapi\.json)|get \/metrics|get \/docs(\/.*)?|get \/dashboard(\/.*)?|post \/api\/auth\/(login|refresh|logout)|(get|post) \/webhooks\/.+|post \/hooks\/.+)$/;

const SAMPLE_PARAMS: Record<string, string> = { phone: '15550001111', phoneNumberId: '1234567890' };
const concrete = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => SAMPLE_PARAMS[name] ?? '0123456789abcdef01234567');
const below = (role: RoleName): RoleName | null => ROLES[ROLES.indexOf(role) + 1] ?? null;

describe('authorization matrix over every registered route', function () {
  this.timeout(120_000);
  let t: IdentityTestServer;
  let users: Record<RoleName, SignedIn>;
  let protectedRoutes: RouteDefinition[];
  let expired: string;
  let tampered: string;

  before(async () => {
    t = await startIdentityServer({ label: 'matrix', plugins: builtinPlugins });
    users = await t.roleUsers();
    protectedRoutes = t.server.contributions.routes.map((r) => r.route).filter((r) => r.permission !== 'public');
    const claims = decodeJwt(users.owner.accessToken);
    expired = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(String(claims.sub))
      .setIssuer('flowgate').setAudience('flowgate-api').setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const [header, , signature] = users.viewer.accessToken.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(users.viewer.accessToken), sub: users.owner.id, sid: claims.sid })).toString('base64url');
    tampered = `${header}.${payload}.${signature}`;
  });
  after(async () => { await t?.stop(); });

  it('loads every built-in plugin and covers routes of each of them', () => {
    assert.ok(builtinPlugins.includes('identity') && builtinPlugins.includes('audit'));
    const plugins = new Set(t.server.contributions.routes.map((r) => r.plugin));
    for (const id of ['identity', 'audit', 'core']) assert.ok(plugins.has(id), `${id} has routes`);
    assert.ok(protectedRoutes.length >= 20, `only ${protectedRoutes.length} protected routes`);
  });

  it('has no public route beyond the intended ones', () => {
    const unexpected = t.server.contributions.routes.map((r) => r.route).filter((r) => r.permission === 'public')
      .map((r) => `${r.method} ${r.path}`).filter((key) => !PUBLIC_ROUTES.test(key));
    assert.deepEqual(unexpected, []);
  });

  const walk = async (label: string, check: (route: RouteDefinition) => Promise<string | null>) => {
    const failures: string[] = [];
    for (const route of protectedRoutes) {
      const failure = await check(route);
      if (failure) failures.push(`${route.method.toUpperCase()} ${route.path} (${route.permission}) ${label}: ${failure}`);
    }
    assert.deepEqual(failures, []);
  };

  it('answers 401 to every protected route without a token', () => walk('without token', async (route) => {
    const response = await t.call(route.method, concrete(route.path), null);
    return response.status === 401 ? null : `got ${response.status}`;
  }));

  it('answers 401 to every protected route with an expired or a tampered token', () => walk('bad token', async (route) => {
    const a = await t.call(route.method, concrete(route.path), expired);
    const b = await t.call(route.method, concrete(route.path), tampered);
    return a.status === 401 && b.status === 401 ? null : `expired ${a.status}, tampered ${b.status}`;
  }));

  it('answers 403 to the role just below the required one, and lets the required role in', () => walk('by role', async (route) => {
    const catalog = t.server.get(PermissionCatalog);
    const required = catalog.lowestRoleFor(route.permission);
    if (!required) return 'permission granted by nobody';
    const lower = below(required);
    if (lower) {
      const denied = await t.call<{ error: { code: string } }>(route.method, concrete(route.path), users[lower].accessToken);
      if (denied.status !== 403) return `${lower} got ${denied.status}, expected 403`;
    }
    const allowed = await t.call(route.method, concrete(route.path), users[required].accessToken);
    return allowed.status === 401 || allowed.status === 403 ? `${required} got ${allowed.status}: ${allowed.text.slice(0, 200)}` : null;
  }));
});

/**
 * A test server with the real identity and audit plugins (no test authenticator): real users,
 * real JWTs from the login route, a Redis key prefix of its own so counters never leak between
 * test files.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { ROLES, type RoleName } from '../../../core/index.js';
import { startTestServer, type HttpResult, type TestServer, type TestServerOptions } from '../../helpers/test-host.js';

export const JWT_SECRET = 'identity-tests-secret-that-is-long-enough-0123456789';
export const OWNER = { email: 'owner@example.test', password: 'correct horse battery staple' };

export interface SignedIn {
  id: string;
  email: string;
  password: string;
  role: RoleName;
  accessToken: string;
  refreshToken: string;
}

export interface IdentityTestServer extends TestServer {
  login(email: string, password: string): Promise<HttpResult<{ accessToken: string; refreshToken: string; user: { id: string } }>>;
  /** `request` with a Bearer token. */
  call<T = unknown>(method: string, path: string, token: string | null, body?: unknown): Promise<HttpResult<T>>;
  /** Creates (once) and signs in one user per role. */
  roleUsers(): Promise<Record<RoleName, SignedIn>>;
  createUser(role: RoleName, label?: string): Promise<SignedIn>;
  connect(auth: { token?: string; apiKey?: string }): Promise<Socket>;
}

export async function startIdentityServer(options: TestServerOptions & { identity?: Record<string, unknown>; audit?: Record<string, unknown> } = {}): Promise<IdentityTestServer> {
  const t = await startTestServer({
    ...options,
    auth: false,
    plugins: options.plugins ?? ['audit', 'identity'],
    pluginSettings: {
      ...(options.pluginSettings ?? {}),
      identity: { jwtSecret: JWT_SECRET, passwordCost: 12, owner: OWNER, loginThrottle: { ipLimit: 10_000 }, ...(options.identity ?? {}) },
      audit: { sealDelayMs: 200, ...(options.audit ?? {}) },
    },
    config: { redis: { keyPrefix: `t${randomBytes(4).toString('hex')}:` }, ...(options.config ?? {}) },
  });
  let roleUsers: Record<RoleName, SignedIn> | null = null;
  let owner: SignedIn | null = null;

  const call = <T>(method: string, path: string, token: string | null, body?: unknown) =>
    t.request<T>(method, path, { body, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const login = (email: string, password: string) =>
    t.request<{ accessToken: string; refreshToken: string; user: { id: string } }>('post', '/api/auth/login', { body: { email, password } });
  const signIn = async (email: string, password: string, role: RoleName): Promise<SignedIn> => {
    const response = await login(email, password);
    if (response.status !== 200) throw new Error(`login of ${email} failed: ${response.status} ${response.text}`);
    return { id: response.body.user.id, email, password, role, accessToken: response.body.accessToken, refreshToken: response.body.refreshToken };
  };
  const ownerSession = async () => (owner ??= await signIn(OWNER.email, OWNER.password, 'owner'));
  const createUser = async (role: RoleName, label = role): Promise<SignedIn> => {
    const email = `${label}-${randomBytes(3).toString('hex')}@example.test`;
    const password = `password-of-${label}-123`;
    const created = await call('post', '/api/users', (await ownerSession()).accessToken, { email, name: label, password, role });
    if (created.status !== 201) throw new Error(`creating ${email} failed: ${created.status} ${created.text}`);
    return signIn(email, password, role);
  };

  return {
    ...t,
    login,
    call,
    createUser,
    async roleUsers() {
      if (roleUsers) return roleUsers;
      const entries: Array<[RoleName, SignedIn]> = [['owner', await ownerSession()]];
      for (const role of ROLES.filter((r) => r !== 'owner')) entries.push([role, await createUser(role)]);
      roleUsers = Object.fromEntries(entries) as Record<RoleName, SignedIn>;
      return roleUsers;
    },
    connect: (auth) => t.socket({ auth }),
  };
}

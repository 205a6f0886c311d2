/**
 * Identity: users with scrypt-hashed passwords, JWT access tokens with rotating refresh tokens,
 * API keys, six roles and the permission routes. It provides the core's authenticator, so every
 * route and socket topic is checked against the permissions plugins grant.
 */
import { randomBytes } from 'node:crypto';
import { CoreError, type Plugin } from '../../core/index.js';
import { AccessTokens } from './access-tokens.js';
import { ApiKeyRegistry } from './api-keys.js';
import { IdentityAuthenticator } from './authenticator.js';
import { UserCreateCommand } from './commands/user-create.js';
import { identityConfigSchema, IdentityConfigToken, JwtKeyToken, type IdentityConfig } from './config.js';
import { IdentityLifecycle } from './identity-lifecycle.js';
import { SessionsPruneJob } from './jobs/sessions-prune.js';
import { LoginThrottle } from './login-throttle.js';
import { ApiKeyRevocationModel } from './models/api-key-revocation.js';
import { ApiKeyModel } from './models/api-key.js';
import { SessionModel } from './models/session.js';
import { UserModel } from './models/user.js';
import { OwnerGuard } from './owner-guard.js';
import { PasswordHasher } from './passwords.js';
import { RedisLocks } from './redis-locks.js';
import { RoleAssignments } from './role-assignments.js';
import { ApiKeyRoutes } from './routes/api-keys.js';
import { AuthRoutes } from './routes/auth.js';
import { PermissionRoutes } from './routes/permissions.js';
import { UserRoutes } from './routes/users.js';
import { SessionStore } from './sessions.js';
import { SignIn } from './sign-in.js';
import { UserDirectory } from './user-directory.js';

/** The token key from the environment; only development and tests may run on a per-process random one. */
function jwtKey(config: IdentityConfig): Uint8Array {
  if (config.jwtSecret) return new TextEncoder().encode(config.jwtSecret);
  if (!['development', 'test'].includes(process.env.NODE_ENV ?? 'development')) {
    throw new CoreError('IDENTITY_JWT_SECRET_MISSING', 'Set FLOWGATE_JWT_SECRET (at least 32 characters): access tokens cannot be signed without it outside development');
  }
  return randomBytes(32);
}

const identity: Plugin<IdentityConfig> = {
  manifest: {
    id: 'identity',
    version: '1.0.0',
    core: '^0.1.0',
    dependsOn: ['audit'],
    description: 'Users, sign-in with JWT and refresh tokens, API keys, roles and permissions',
    configSchema: identityConfigSchema,
    environment: {
      FLOWGATE_JWT_SECRET: 'jwtSecret',
      FLOWGATE_OWNER_EMAIL: 'owner.email',
      FLOWGATE_OWNER_PASSWORD: 'owner.password',
      FLOWGATE_OWNER_NAME: 'owner.name',
    },
  },
  register(r) {
    r.bind(IdentityConfigToken).toConstantValue(r.config);
    r.bind(JwtKeyToken).toConstantValue(jwtKey(r.config));
    r.bind(PasswordHasher).toSelf().inSingletonScope();
    r.bind(AccessTokens).toSelf().inSingletonScope();
    r.bind(SessionStore).toSelf().inSingletonScope();
    r.bind(LoginThrottle).toSelf().inSingletonScope();
    r.bind(RedisLocks).toSelf().inSingletonScope();
    r.bind(OwnerGuard).toSelf().inSingletonScope();
    r.bind(UserDirectory).toSelf().inSingletonScope();
    r.bind(ApiKeyRegistry).toSelf().inSingletonScope();
    r.bind(RoleAssignments).toSelf().inSingletonScope();
    r.bind(SignIn).toSelf().inSingletonScope();
    r.model(UserModel);
    r.model(SessionModel);
    r.model(ApiKeyModel);
    r.model(ApiKeyRevocationModel);
    r.permissions({
      'permissions:read': 'viewer',
      'users:read': 'manager',
      'users:write': 'admin',
      'permissions:assign': 'admin',
      'api-keys:read': 'admin',
      'api-keys:write': 'admin',
    });
    r.authenticator(IdentityAuthenticator);
    r.routes(AuthRoutes);
    r.routes(UserRoutes);
    r.routes(ApiKeyRoutes);
    r.routes(PermissionRoutes);
    r.job({ name: 'identity.sessions-prune', handler: SessionsPruneJob, concurrency: 1 });
    r.command({ name: 'user:create', summary: 'Create a user, e.g. the first owner', usage: '--email EMAIL --name NAME --role ROLE [--password-stdin]', handler: UserCreateCommand });
    r.lifecycle(IdentityLifecycle);
  },
};

export default identity;

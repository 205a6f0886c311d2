/**
 * The core's `Authenticator`: a Bearer access token (a user's session) or an `X-Api-Key`. The
 * role and permissions come from the database on every request, so a demotion, a disabled
 * account or an ended session counts at once, and `isStillValid` lets the realtime layer close
 * sockets whose credentials no longer hold. An API key acts with the lower of its own role and
 * its creator's current one, so demoting, disabling or deleting a person reaches their keys too.
 */
import type { Model, Types } from 'mongoose';
import { HttpError, inject, injectable, PermissionCatalog, Realtime, roleAtLeast, type Authenticator, type Credentials, type Principal, type RoleName } from '../../core/index.js';
import { AccessTokens } from './access-tokens.js';
import { ApiKeyRegistry } from './api-keys.js';
import type { ApiKey } from './models/api-key.js';
import { UserModel, type User } from './models/user.js';
import { SessionStore } from './sessions.js';

const rejected = (code: string, message: string) => new HttpError(401, code, message, undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });

@injectable()
export class IdentityAuthenticator implements Authenticator {
  constructor(
    @inject(AccessTokens) private readonly tokens: AccessTokens,
    @inject(SessionStore) private readonly sessions: SessionStore,
    @inject(ApiKeyRegistry) private readonly apiKeys: ApiKeyRegistry,
    @inject(UserModel.token) private readonly users: Model<User>,
    @inject(PermissionCatalog) private readonly catalog: PermissionCatalog,
    @inject(Realtime) private readonly realtime: Realtime,
  ) {}

  async authenticate(credentials: Credentials): Promise<Principal | null> {
    if (credentials.bearerToken) {
      const claims = await this.tokens.verify(credentials.bearerToken);
      const [owner, user] = await Promise.all([this.sessions.liveOwner(claims.sessionId), this.activeUser(claims.userId)]);
      if (owner !== claims.userId) throw rejected('SESSION_ENDED', 'The session of this token was ended; sign in again');
      if (!user?.role) throw rejected('ACCOUNT_UNAVAILABLE', 'The account is disabled, deleted or has no role');
      return { kind: 'user', id: claims.userId, role: user.role, permissions: this.catalog.permissionsOf(user.role), credentialId: claims.sessionId };
    }
    if (credentials.apiKey) {
      const key = await this.apiKeys.resolve(credentials.apiKey);
      if (!key) throw rejected('API_KEY_INVALID', 'The API key is unknown, revoked or expired');
      const role = await this.keyRole(key);
      if (!role) throw rejected('API_KEY_CREATOR_UNAVAILABLE', "The API key's creator is disabled, deleted, has no role or was revoked");
      return { kind: 'apiKey', id: String(key._id), role, permissions: this.catalog.permissionsOf(role), credentialId: String(key._id) };
    }
    return null;
  }

  /** False once the session ended, the account changed role or status, or the key was revoked. */
  async isStillValid(principal: Principal): Promise<boolean> {
    if (principal.kind === 'apiKey') {
      const key = await this.apiKeys.findLive(principal.id);
      return !!key && await this.keyRole(key) === principal.role;
    }
    if (principal.kind !== 'user' || !principal.credentialId) return true;
    const [owner, user] = await Promise.all([this.sessions.liveOwner(principal.credentialId), this.activeUser(principal.id)]);
    return owner === principal.id && user?.role === principal.role;
  }

  /** Closes this process's sockets whose credentials were just revoked (others sweep within seconds). */
  dropRevokedSockets(): void {
    void this.realtime.revalidate(this);
  }

  /**
   * The role a key acts with: the lower of its own and its creator's current role (one lookup by
   * id per link: a user, or a key that made this key, itself capped the same way); null when the
   * creator can no longer act.
   */
  private async keyRole(key: Pick<ApiKey, 'role' | 'createdBy'>): Promise<RoleName | null> {
    const [kind, id = ''] = key.createdBy.split(':');
    let creatorRole: RoleName | null = null;
    if (kind === 'user') creatorRole = (await this.activeUser(id))?.role ?? null;
    if (kind === 'apiKey') {
      const creatorKey = await this.apiKeys.findLive(id);
      creatorRole = creatorKey && await this.keyRole(creatorKey);
    }
    if (!creatorRole) return null;
    return roleAtLeast(creatorRole, key.role) ? key.role : creatorRole;
  }

  private async activeUser(id: string): Promise<(Pick<User, 'role' | 'status'> & { _id: Types.ObjectId }) | null> {
    if (!/^[a-f0-9]{24}$/.test(id)) return null;
    return this.users.findOne({ _id: id, status: 'active' }, { role: 1, status: 1 }).lean<Pick<User, 'role' | 'status'> & { _id: Types.ObjectId }>();
  }
}

/** Sign-in, refresh and sign-out, with throttling and an audit entry for each outcome. */
import { HttpError, inject, injectable, type Principal } from '../../core/index.js';
import { AuditLog } from '../audit/public.js';
import { AccessTokens } from './access-tokens.js';
import { IdentityAuthenticator } from './authenticator.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './passwords.js';
import type { UserView } from './schemas.js';
import { RefreshRejected, SessionStore, type IssuedRefresh } from './sessions.js';
import { normalizeEmail, toUserView, UserDirectory } from './user-directory.js';

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  user: UserView;
}

export interface RequestOrigin {
  ip: string;
  requestId: string;
}

const badCredentials = () => new HttpError(401, 'INVALID_CREDENTIALS', 'The email or password is wrong');

@injectable()
export class SignIn {
  constructor(
    @inject(UserDirectory) private readonly users: UserDirectory,
    @inject(PasswordHasher) private readonly passwords: PasswordHasher,
    @inject(SessionStore) private readonly sessions: SessionStore,
    @inject(AccessTokens) private readonly tokens: AccessTokens,
    @inject(LoginThrottle) private readonly throttle: LoginThrottle,
    @inject(IdentityAuthenticator) private readonly authenticator: IdentityAuthenticator,
    @inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async login(emailInput: string, password: string, origin: RequestOrigin): Promise<TokenPair> {
    const email = normalizeEmail(emailInput);
    try {
      // Counted before the password check, so parallel guesses cannot all slip under the limit.
      await this.throttle.attempt(email, origin.ip);
    } catch (error) {
      await this.audit.record({ actor: { kind: 'anonymous', id: 'anonymous' }, action: 'auth.login-throttled', resource: { type: 'user' }, after: { email }, status: 429, ...origin });
      throw error;
    }
    const user = await this.users.findByEmail(email);
    const matches = await this.passwords.verify(password, user?.passwordHash ?? null);
    if (!user || !matches) {
      await this.audit.record({
        actor: { kind: 'anonymous', id: 'anonymous' }, action: 'auth.login-failed',
        resource: { type: 'user', ...(user ? { id: String(user._id) } : {}) }, after: { email, reason: user ? 'wrong password' : 'unknown email' }, status: 401, ...origin,
      });
      throw badCredentials();
    }
    await this.throttle.succeeded(email, origin.ip);
    if (user.status !== 'active') throw new HttpError(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    if (!user.role) throw new HttpError(403, 'ACCOUNT_HAS_NO_ROLE', 'This account has no role; ask an administrator for one');
    const refresh = await this.sessions.open(String(user._id), origin.ip);
    await this.users.markSignedIn(user._id);
    await this.audit.record({ actor: { kind: 'user', id: String(user._id), role: user.role }, action: 'auth.login', resource: { type: 'session', id: refresh.sessionId }, status: 200, ...origin });
    return this.pair(refresh, toUserView(user));
  }

  async refresh(refreshToken: string, origin: RequestOrigin): Promise<TokenPair> {
    let refresh: IssuedRefresh;
    try {
      refresh = await this.sessions.rotate(refreshToken);
    } catch (error) {
      if (error instanceof RefreshRejected && error.reason === 'reused' && error.session) {
        this.authenticator.dropRevokedSockets();
        await this.audit.record({
          actor: { kind: 'anonymous', id: 'anonymous' }, action: 'auth.refresh-reused', resource: { type: 'session', id: error.session._id },
          after: { userId: error.session.userId, outcome: 'session revoked' }, status: 401, ...origin,
        });
      }
      throw error;
    }
    const user = await this.users.find(refresh.userId);
    if (!user || user.status !== 'active' || !user.role) {
      await this.sessions.revoke(refresh.sessionId, 'account unavailable');
      throw new HttpError(401, 'ACCOUNT_UNAVAILABLE', 'The account is disabled, deleted or has no role');
    }
    return this.pair(refresh, toUserView(user));
  }

  /** Ends the session of the refresh token and/or of the caller's access token. */
  async logout(refreshToken: string | undefined, principal: Principal | null, origin: RequestOrigin): Promise<void> {
    const ended: string[] = [];
    const byToken = refreshToken ? await this.sessions.revokeByToken(refreshToken, 'signed out') : null;
    if (byToken?.reused) {
      await this.audit.record({
        actor: this.audit.actorOf(principal), action: 'auth.refresh-reused', resource: { type: 'session', id: byToken.session._id },
        after: { userId: byToken.session.userId, outcome: 'session revoked at sign-out' }, status: 204, ...origin,
      });
    } else if (byToken) ended.push(byToken.session._id);
    if (principal?.kind === 'user' && principal.credentialId && await this.sessions.revoke(principal.credentialId, 'signed out')) ended.push(principal.credentialId);
    for (const sessionId of ended) {
      await this.audit.record({ actor: this.audit.actorOf(principal), action: 'auth.logout', resource: { type: 'session', id: sessionId }, status: 204, ...origin });
    }
    this.authenticator.dropRevokedSockets();
  }

  private async pair(refresh: IssuedRefresh, user: UserView): Promise<TokenPair> {
    return {
      accessToken: await this.tokens.issue({ userId: refresh.userId, sessionId: refresh.sessionId }),
      tokenType: 'Bearer',
      expiresIn: this.tokens.ttlSeconds,
      refreshToken: refresh.refreshToken,
      refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
      user,
    };
  }
}

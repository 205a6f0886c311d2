/**
 * Sign-in sessions and their rotating refresh tokens. A refresh token is `<session>.<secret>`;
 * the session keeps the hash of the one current secret. Refreshing swaps it atomically, so of two
 * racing refreshes only one wins, and presenting a superseded token revokes the whole session.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Model } from 'mongoose';
import { HttpError, inject, injectable } from '../../core/index.js';
import { IdentityConfigToken, type IdentityConfig } from './config.js';
import { RedisLocks } from './redis-locks.js';
import { SessionModel, type Session } from './models/session.js';

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const newSecret = (): string => randomBytes(32).toString('base64url');

export interface IssuedRefresh {
  sessionId: string;
  userId: string;
  refreshToken: string;
  expiresAt: Date;
}

/** Why refreshing failed; `reused` means the session was revoked because of it. */
export type RefreshFailure = 'unknown' | 'revoked' | 'expired' | 'reused';

export class RefreshRejected extends HttpError {
  constructor(readonly reason: RefreshFailure, readonly session: Pick<Session, '_id' | 'userId'> | null) {
    const messages: Record<RefreshFailure, string> = {
      unknown: 'The refresh token is not valid',
      revoked: 'The session of this refresh token was ended; sign in again',
      expired: 'The refresh token has expired; sign in again',
      reused: 'This refresh token was already used; the session was ended to protect the account',
    };
    super(401, reason === 'reused' ? 'REFRESH_TOKEN_REUSED' : 'REFRESH_TOKEN_INVALID', messages[reason]);
  }
}

@injectable()
export class SessionStore {
  constructor(
    @inject(SessionModel.token) private readonly sessions: Model<Session>,
    @inject(IdentityConfigToken) private readonly config: IdentityConfig,
    @inject(RedisLocks) private readonly locks: RedisLocks,
  ) {}

  async open(userId: string, ip: string): Promise<IssuedRefresh> {
    const now = new Date();
    const sessionId = randomBytes(18).toString('base64url');
    const secret = newSecret();
    const expiresAt = new Date(now.getTime() + this.config.refreshTokenTtlSeconds * 1000);
    await this.sessions.create({ _id: sessionId, userId, refreshHash: hashSecret(secret), generation: 1, createdAt: now, lastUsedAt: now, expiresAt, revokedAt: null, ip });
    return { sessionId, userId, refreshToken: `${sessionId}.${secret}`, expiresAt };
  }

  /** Swaps the presented token for a new one; throws RefreshRejected otherwise (see the class comment). */
  async rotate(refreshToken: string): Promise<IssuedRefresh> {
    const [sessionId = '', secret = ''] = refreshToken.split('.');
    const now = new Date();
    const next = newSecret();
    // Compare-and-swap under a per-session lock: FerretDB does not make a conditional update
    // atomic against a concurrent one, so of two racing refreshes the second must see the first's result.
    const swapped = await this.locks.around(`identity:refresh:${sessionId}`, () => this.sessions.updateOne(
      { _id: sessionId, refreshHash: hashSecret(secret), revokedAt: null, expiresAt: { $gt: now } },
      { $set: { refreshHash: hashSecret(next), lastUsedAt: now }, $inc: { generation: 1 } },
    ));
    if (swapped.modifiedCount === 1) {
      const rotated = await this.sessions.findById(sessionId, { userId: 1, expiresAt: 1 }).lean<Pick<Session, 'userId' | 'expiresAt'>>();
      if (rotated) return { sessionId, userId: rotated.userId, refreshToken: `${sessionId}.${next}`, expiresAt: rotated.expiresAt };
    }
    const session = await this.sessions.findById(sessionId).lean<Session>();
    if (!session) throw new RefreshRejected('unknown', null);
    if (session.revokedAt) throw new RefreshRejected('revoked', session);
    if (session.expiresAt <= now) throw new RefreshRejected('expired', session);
    await this.revoke(sessionId, 'refresh token reused');
    throw new RefreshRejected('reused', session);
  }

  /** Ends a session: its refresh token stops working and its access tokens are refused. */
  async revoke(sessionId: string, reason: string): Promise<boolean> {
    const result = await this.sessions.updateOne({ _id: sessionId, revokedAt: null }, { $set: { revokedAt: new Date(), revokedReason: reason } });
    return result.modifiedCount > 0;
  }

  /**
   * Ends the session of a refresh token at sign-out. A token that is not the session's current one
   * is a reuse, as in `rotate`: someone else refreshed with it, so the session ends all the same
   * (keeping it would leave them signed in). Null when there was no live session to end.
   */
  async revokeByToken(refreshToken: string, reason: string): Promise<{ session: Pick<Session, '_id' | 'userId'>; reused: boolean } | null> {
    const [sessionId = '', secret = ''] = refreshToken.split('.');
    const session = await this.sessions.findById(sessionId, { userId: 1, refreshHash: 1, revokedAt: 1 }).lean<Pick<Session, '_id' | 'userId' | 'refreshHash' | 'revokedAt'>>();
    if (!session || session.revokedAt) return null;
    const reused = session.refreshHash !== hashSecret(secret);
    if (!await this.revoke(sessionId, reused ? 'refresh token reused' : reason)) return null;
    return { session: { _id: session._id, userId: session.userId }, reused };
  }

  async revokeAllOf(userId: string, reason: string): Promise<number> {
    const result = await this.sessions.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: new Date(), revokedReason: reason } });
    return result.modifiedCount;
  }

  /** The session's owner while it is live, else null. */
  async liveOwner(sessionId: string): Promise<string | null> {
    const session = await this.sessions.findById(sessionId, { userId: 1, revokedAt: 1, expiresAt: 1 }).lean<Pick<Session, 'userId' | 'revokedAt' | 'expiresAt'>>();
    return session && !session.revokedAt && session.expiresAt > new Date() ? session.userId : null;
  }

  /** Removes sessions that ended more than a day ago (the `identity.sessions-prune` job). */
  async prune(): Promise<number> {
    const dayAgo = new Date(Date.now() - 86_400_000);
    const result = await this.sessions.deleteMany({ $or: [{ expiresAt: { $lt: dayAgo } }, { revokedAt: { $lt: dayAgo } }] });
    return result.deletedCount;
  }
}

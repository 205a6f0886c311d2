/**
 * Access tokens: JWTs signed with HS256 and verified with exactly that algorithm, the expected
 * issuer and audience, and an expiry, so `alg: none`, RS/HS confusion, foreign or stale tokens
 * are all refused. They name the user and the session; permissions are looked up per request.
 */
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { HttpError, inject, injectable } from '../../core/index.js';
import { IdentityConfigToken, JwtKeyToken, type IdentityConfig } from './config.js';

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

const unauthenticated = (message: string) => new HttpError(401, 'UNAUTHENTICATED', message, undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });

@injectable()
export class AccessTokens {
  constructor(
    @inject(IdentityConfigToken) private readonly config: IdentityConfig,
    @inject(JwtKeyToken) private readonly key: Uint8Array,
  ) {}

  get ttlSeconds(): number {
    return this.config.accessTokenTtlSeconds;
  }

  async issue(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.config.accessTokenTtlSeconds}s`)
      .sign(this.key);
  }

  /** Throws HttpError 401 for any token that is not ours, not intact, or not current. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.config.issuer,
        audience: this.config.audience,
        requiredClaims: ['exp', 'iat', 'sub', 'sid'],
        typ: 'JWT',
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw unauthenticated('The access token lacks its subject or session');
      return { userId: payload.sub, sessionId: payload.sid };
    } catch (error) {
      if (error instanceof HttpError) throw error;
      if (error instanceof errors.JWTExpired) throw unauthenticated('The access token has expired; refresh it');
      throw unauthenticated('The access token is not valid');
    }
  }
}

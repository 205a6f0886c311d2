import { inject, injectable, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { emailSchema, refreshTokenSchema, tokenPairSchema } from '../schemas.js';
import { SignIn } from '../sign-in.js';

@injectable()
export class AuthRoutes implements RouteController {
  constructor(@inject(SignIn) private readonly signIn: SignIn) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'post', path: '/api/auth/login', summary: 'Sign in with email and password: an access token and a refresh token', permission: 'public', tags: ['auth'],
        body: {
          type: 'object', additionalProperties: false, required: ['email', 'password'],
          // No minimum length here: a wrong password of any length is simply wrong.
          properties: { email: emailSchema, password: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        responses: {
          200: { description: 'Signed in', schema: tokenPairSchema },
          401: { description: 'Wrong email or password' },
          403: { description: 'The account is disabled or has no role' },
          429: { description: 'Too many failed attempts for this account or address' },
        },
        handler: async (req) => {
          const body = req.body as { email: string; password: string };
          return { body: await this.signIn.login(body.email, body.password, { ip: req.ip, requestId: req.requestId }) };
        },
      },
      {
        method: 'post', path: '/api/auth/refresh', summary: 'Swap a refresh token for new tokens; a token used twice ends its session', permission: 'public', tags: ['auth'],
        body: { type: 'object', additionalProperties: false, required: ['refreshToken'], properties: { refreshToken: refreshTokenSchema } },
        responses: { 200: { description: 'New tokens', schema: tokenPairSchema }, 401: { description: 'Unknown, expired, revoked or reused token' } },
        handler: async (req) => ({ body: await this.signIn.refresh((req.body as { refreshToken: string }).refreshToken, { ip: req.ip, requestId: req.requestId }) }),
      },
      {
        method: 'post', path: '/api/auth/logout', summary: "Sign out: ends the refresh token's session and the caller's own", permission: 'public', tags: ['auth'],
        body: { type: 'object', additionalProperties: false, properties: { refreshToken: refreshTokenSchema } },
        responses: { 204: { description: 'Signed out (also when there was nothing to end)' } },
        handler: async (req) => {
          const body = (req.body ?? {}) as { refreshToken?: string };
          await this.signIn.logout(body.refreshToken, req.principal, { ip: req.ip, requestId: req.requestId });
          return { status: 204 };
        },
      },
    ];
  }
}

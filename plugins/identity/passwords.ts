/** Password hashing with scrypt and a random salt per password; parameters travel with the hash. */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { inject, injectable } from '../../core/index.js';
import { IdentityConfigToken, type IdentityConfig } from './config.js';

const KEY_LENGTH = 64;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128 * N * r bytes, or node refuses the larger costs.
    scryptCallback(password.normalize('NFC'), salt, KEY_LENGTH, { ...options, maxmem: 256 * (options.N ?? 0) * BLOCK_SIZE + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

@injectable()
export class PasswordHasher {
  /** Compared against when the email is unknown, so both cases cost the same time. */
  private decoy: Promise<string> | null = null;

  constructor(@inject(IdentityConfigToken) private readonly config: IdentityConfig) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const log2N = this.config.passwordCost;
    const key = await scrypt(password, salt, { N: 2 ** log2N, r: BLOCK_SIZE, p: PARALLELISM });
    return ['scrypt', log2N, BLOCK_SIZE, PARALLELISM, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  /** True when `password` matches `stored`; with no stored hash, spends the same time and says false. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    this.decoy ??= this.hash(randomBytes(16).toString('hex'));
    const [scheme, log2N, r, p, salt, expected] = (stored ?? await this.decoy).split('$');
    if (scheme !== 'scrypt' || !salt || !expected) return false;
    const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: 2 ** Number(log2N), r: Number(r), p: Number(p) });
    const wanted = Buffer.from(expected, 'base64url');
    return stored !== null && key.length === wanted.length && timingSafeEqual(key, wanted);
  }
}

/**
 * API keys for machine clients: `fgk_<id>_<secret>`. The secret is 256 random bits, shown once;
 * only its SHA-256 is stored (a slow hash buys nothing for a secret that cannot be guessed, and
 * every request checks it). A key acts with the lower of its own role and its creator's current
 * one (see the authenticator). A revocation is also kept outside the backed-up key records, so a
 * restore cannot undo it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Types, type Model } from 'mongoose';
import { inject, injectable, notFound, type Principal, type RoleName } from '../../core/index.js';
import { ApiKeyRevocationModel, type ApiKeyRevocation } from './models/api-key-revocation.js';
import { ApiKeyModel, type ApiKey } from './models/api-key.js';
import type { ApiKeyView } from './schemas.js';
import { assertMayGrant } from './user-directory.js';

const KEY_FORMAT = /^fgk_([a-f0-9]{24})_([A-Za-z0-9_-]{43})$/;
const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export function toApiKeyView(key: ApiKey): ApiKeyView {
  return {
    id: String(key._id), name: key.name, role: key.role, createdBy: key.createdBy, createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null, lastUsedAt: key.lastUsedAt?.toISOString() ?? null, revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

@injectable()
export class ApiKeyRegistry {
  constructor(
    @inject(ApiKeyModel.token) private readonly keys: Model<ApiKey>,
    @inject(ApiKeyRevocationModel.token) private readonly revocations: Model<ApiKeyRevocation>,
  ) {}

  /** Creates a key; the returned `key` is the only time the secret is available. */
  async create(actor: Principal, input: { name: string; role: RoleName; expiresAt?: Date }): Promise<{ key: string; record: ApiKey }> {
    assertMayGrant(actor, input.role);
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKey = {
      _id: new Types.ObjectId(), name: input.name, role: input.role, secretHash: hashSecret(secret).toString('hex'), createdBy: `${actor.kind}:${actor.id}`,
      createdAt: new Date(), expiresAt: input.expiresAt ?? null, lastUsedAt: null, revokedAt: null,
    };
    await this.keys.create(record);
    return { key: `fgk_${String(record._id)}_${secret}`, record };
  }

  /** The live key for a presented value, or null when it is malformed, unknown, revoked or expired. */
  async resolve(presented: string): Promise<ApiKey | null> {
    const match = KEY_FORMAT.exec(presented);
    if (!match) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const key = await this.findLive(id);
    if (!key || !timingSafeEqual(Buffer.from(key.secretHash, 'hex'), hashSecret(secret))) return null;
    // At most one write a minute per key: lastUsedAt is for people, not for accounting.
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) void this.keys.updateOne({ _id: key._id }, { $set: { lastUsedAt: new Date() } }).exec().catch(() => undefined);
    return key;
  }

  isLive(key: Pick<ApiKey, 'revokedAt' | 'expiresAt'>): boolean {
    return !key.revokedAt && (!key.expiresAt || key.expiresAt > new Date());
  }

  /** The key while it is neither revoked (in its record or in the revocations) nor expired, else null. */
  async findLive(id: string): Promise<ApiKey | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const [key, revoked] = await Promise.all([this.find(id), this.revocations.exists({ _id: id })]);
    return key && !revoked && this.isLive(key) ? key : null;
  }

  async find(id: string): Promise<ApiKey | null> {
    return this.keys.findById(id).lean<ApiKey>();
  }

  async get(id: string): Promise<ApiKey> {
    const key = await this.find(id);
    if (!key) throw notFound('API key', id);
    return key;
  }

  async list(filter: { afterId?: string; limit: number; includeRevoked: boolean }): Promise<ApiKey[]> {
    const query: Record<string, unknown> = {};
    if (!filter.includeRevoked) query.revokedAt = null;
    if (filter.afterId) query._id = { $gt: filter.afterId };
    return this.keys.find(query).sort({ _id: 1 }).limit(filter.limit).lean<ApiKey[]>();
  }

  async update(actor: Principal, id: string, changes: { name?: string; role?: RoleName }): Promise<{ before: ApiKey; after: ApiKey }> {
    const before = await this.get(id);
    assertMayGrant(actor, before.role);
    if (changes.role) assertMayGrant(actor, changes.role);
    const after = await this.keys.findByIdAndUpdate(id, { $set: changes }, { returnDocument: 'after' }).lean<ApiKey>();
    if (!after) throw notFound('API key', id);
    return { before, after };
  }

  /** Revokes (keeps the record for the audit trail); revoking twice is harmless. */
  async revoke(actor: Principal, id: string): Promise<ApiKey> {
    const key = await this.get(id);
    assertMayGrant(actor, key.role);
    const revokedAt = new Date();
    // The revocation first: once it is written, the key is refused whatever a restore does to its record.
    await this.revocations.updateOne({ _id: key._id }, { $setOnInsert: { revokedAt } }, { upsert: true });
    await this.keys.updateOne({ _id: key._id, revokedAt: null }, { $set: { revokedAt } });
    return key;
  }

  /**
   * Makes the key records and the revocations agree again: records revoked before revocations
   * were kept apart get one (once, at start), and records a restore brought back unrevoked are
   * marked revoked again (after a restore). Both collections are small.
   */
  async reconcileRevocations(): Promise<void> {
    const revokedRecords = await this.keys.find({ revokedAt: { $ne: null } }, { revokedAt: 1 }).lean<Array<Pick<ApiKey, '_id' | 'revokedAt'>>>();
    for (const record of revokedRecords) {
      await this.revocations.updateOne({ _id: record._id }, { $setOnInsert: { revokedAt: record.revokedAt } }, { upsert: true });
    }
    for (const revocation of await this.revocations.find({}).lean<ApiKeyRevocation[]>()) {
      await this.keys.updateOne({ _id: revocation._id, revokedAt: null }, { $set: { revokedAt: revocation.revokedAt } });
    }
  }
}

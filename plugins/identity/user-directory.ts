/**
 * People who sign in: creation with a hashed password, lookups, profile and status changes.
 * Changes that could leave the organisation without an owner go through `OwnerGuard`.
 */
import type { Model, Types } from 'mongoose';
import { HttpError, inject, injectable, notFound, roleAtLeast, type Principal, type RoleName } from '../../core/index.js';
import { UserModel, type User, type UserStatus } from './models/user.js';
import { OwnerGuard } from './owner-guard.js';
import { PasswordHasher } from './passwords.js';
import type { UserView } from './schemas.js';
import { SessionStore } from './sessions.js';

type StoredUser = User & { _id: Types.ObjectId };

export function toUserView(user: StoredUser): UserView {
  return {
    id: String(user._id), email: user.email, name: user.name, status: user.status, role: user.role,
    createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString(),
    ...(user.lastLoginAt ? { lastLoginAt: user.lastLoginAt.toISOString() } : {}),
  };
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** Refuses to let `actor` act on a user whose role is above the actor's own. */
export function assertMayManage(actor: Principal, target: Pick<User, 'role'>): void {
  if (target.role && !roleAtLeast(actor.role, target.role)) {
    throw new HttpError(403, 'TARGET_ROLE_ABOVE_OWN', `This user is ${target.role}, above your role ${actor.role}`, { role: target.role });
  }
}

export function assertMayGrant(actor: Pick<Principal, 'role'>, role: RoleName): void {
  if (!roleAtLeast(actor.role, role)) {
    throw new HttpError(403, 'ROLE_ABOVE_OWN', `You cannot give the role ${role}: it is above your own (${actor.role})`, { role, yours: actor.role });
  }
}

export interface UserChanges {
  name?: string;
  status?: UserStatus;
  password?: string;
}

@injectable()
export class UserDirectory {
  constructor(
    @inject(UserModel.token) private readonly users: Model<User>,
    @inject(PasswordHasher) private readonly passwords: PasswordHasher,
    @inject(SessionStore) private readonly sessions: SessionStore,
    @inject(OwnerGuard) private readonly owners: OwnerGuard,
  ) {}

  /** Creates a user; throws 409 EMAIL_TAKEN when the email is in use. */
  async create(input: { email: string; name: string; password: string; role: RoleName }): Promise<StoredUser> {
    const now = new Date();
    const passwordHash = await this.passwords.hash(input.password);
    try {
      const created = await this.users.create({ email: normalizeEmail(input.email), name: input.name, status: 'active', role: input.role, passwordHash, createdAt: now, updatedAt: now });
      return created.toObject() as StoredUser;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) throw conflictEmail(input.email);
      throw error;
    }
  }

  async find(id: string): Promise<StoredUser | null> {
    return this.users.findById(id).lean<StoredUser>();
  }

  async get(id: string): Promise<StoredUser> {
    const user = await this.find(id);
    if (!user) throw notFound('User', id);
    return user;
  }

  async findByEmail(email: string): Promise<StoredUser | null> {
    return this.users.findOne({ email: normalizeEmail(email) }).lean<StoredUser>();
  }

  async hasOwner(): Promise<boolean> {
    return (await this.users.countDocuments({ role: 'owner', status: 'active' })) > 0;
  }

  async list(filter: { status?: UserStatus; role?: RoleName; email?: string; afterId?: string; limit: number }): Promise<StoredUser[]> {
    const query: Record<string, unknown> = {};
    if (filter.status) query.status = filter.status;
    if (filter.role) query.role = filter.role;
    if (filter.email) query.email = normalizeEmail(filter.email);
    if (filter.afterId) query._id = { $gt: filter.afterId };
    return this.users.find(query).sort({ _id: 1 }).limit(filter.limit).lean<StoredUser[]>();
  }

  async markSignedIn(id: Types.ObjectId): Promise<void> {
    await this.users.updateOne({ _id: id }, { $set: { lastLoginAt: new Date() } });
  }

  /** Applies profile, status or password changes; disabling or a new password ends the user's sessions. */
  async update(actor: Principal, id: string, changes: UserChanges): Promise<{ before: StoredUser; after: StoredUser }> {
    const before = await this.get(id);
    assertMayManage(actor, before);
    const set: Record<string, unknown> = { updatedAt: new Date() };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.password !== undefined) set.passwordHash = await this.passwords.hash(changes.password);
    const apply = async () => {
      const after = await this.users.findByIdAndUpdate(id, { $set: set }, { returnDocument: 'after' }).lean<StoredUser>();
      if (!after) throw notFound('User', id);
      return after;
    };
    const after = changes.status === 'disabled' && before.role === 'owner' && before.status === 'active'
      ? await this.owners.whileAnotherOwnerRemains(id, apply)
      : await apply();
    if (changes.status === 'disabled' || changes.password !== undefined) await this.sessions.revokeAllOf(id, changes.password !== undefined ? 'password changed' : 'user disabled');
    return { before, after };
  }

  async remove(actor: Principal, id: string): Promise<StoredUser> {
    const user = await this.get(id);
    assertMayManage(actor, user);
    const remove = async () => { await this.users.deleteOne({ _id: id }); };
    if (user.role === 'owner' && user.status === 'active') await this.owners.whileAnotherOwnerRemains(id, remove);
    else await remove();
    await this.sessions.revokeAllOf(id, 'user deleted');
    return user;
  }

  /** Sets the role (null: none); an active owner losing the role needs another active owner. */
  async setRole(id: string, role: RoleName | null): Promise<{ before: StoredUser; after: StoredUser }> {
    const before = await this.get(id);
    const apply = async () => {
      const after = await this.users.findByIdAndUpdate(id, { $set: { role, updatedAt: new Date() } }, { returnDocument: 'after' }).lean<StoredUser>();
      if (!after) throw notFound('User', id);
      return after;
    };
    const after = before.role === 'owner' && role !== 'owner' && before.status === 'active'
      ? await this.owners.whileAnotherOwnerRemains(id, apply)
      : await apply();
    return { before, after };
  }
}

const conflictEmail = (email: string) => new HttpError(409, 'EMAIL_TAKEN', `A user with the email ${normalizeEmail(email)} exists`);

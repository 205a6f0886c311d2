import { CoreEvents, inject, injectable, LoggerToken, Scheduler, type Logger, type PluginLifecycle } from '../../core/index.js';
import { AuditLog } from '../audit/public.js';
import { ApiKeyRegistry } from './api-keys.js';
import { IdentityConfigToken, type IdentityConfig } from './config.js';
import { UserDirectory } from './user-directory.js';

/**
 * Creates the first owner from the environment when there is no owner yet (so a fresh install
 * can be signed into), schedules the removal of ended sessions, and marks API keys revoked again
 * when a restore brought their records back unrevoked (the revocations themselves are not in
 * backups, so such a key is refused in any case; this keeps the key list true).
 */
@injectable()
export class IdentityLifecycle implements PluginLifecycle {
  constructor(
    @inject(UserDirectory) private readonly users: UserDirectory,
    @inject(AuditLog) private readonly audit: AuditLog,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(IdentityConfigToken) private readonly config: IdentityConfig,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(ApiKeyRegistry) private readonly apiKeys: ApiKeyRegistry,
    @inject(CoreEvents) private readonly events: CoreEvents,
  ) {}

  async start(): Promise<void> {
    await this.createFirstOwner();
    await this.apiKeys.reconcileRevocations();
    // The backup plugin announces a finished restore as this activity (on the process that ran it).
    this.events.on('activity', async (event) => {
      if (event.action === 'backup.restore.succeeded') await this.apiKeys.reconcileRevocations();
    });
    await this.scheduler.every('1 hour', 'identity.sessions-prune', {}, { key: 'identity.sessions-prune' });
  }

  private async createFirstOwner(): Promise<void> {
    const { email, password, name } = this.config.owner;
    if (!email || !password || await this.users.hasOwner()) return;
    if (await this.users.findByEmail(email)) {
      this.logger.warn('FLOWGATE_OWNER_EMAIL names an existing user who is not an active owner; no owner was created', { email });
      return;
    }
    try {
      const owner = await this.users.create({ email, password, name: name ?? 'Owner', role: 'owner' });
      await this.audit.record({ actor: { kind: 'system', id: 'identity.bootstrap' }, action: 'user.created', resource: { type: 'user', id: String(owner._id) }, after: { email: owner.email, role: 'owner', source: 'environment' } });
      this.logger.info('first owner created from the environment', { email: owner.email });
    } catch (error) {
      // Another process starting at the same moment created it: the unique email decided.
      if ((error as { code?: string }).code !== 'EMAIL_TAKEN') throw error;
    }
  }
}

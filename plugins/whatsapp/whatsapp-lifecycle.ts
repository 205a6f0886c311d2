import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, PolicyEvaluator, Scheduler, type PluginLifecycle } from '../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from './config.js';
import { Senders } from './graph/senders.js';
import { PRUNE_UPDATES_JOB } from './jobs/prune-updates.js';
import { Campaigns } from './services/campaigns.js';
import { ContactDirectory } from './services/contact-directory.js';
import { InboundProcessor } from './services/inbound-processor.js';

/**
 * At start: resume campaigns and webhook updates a
 * stopped process left behind, give contacts of an older database their aliases, keep sweeping for those of crashed processes, and schedule the
 * retention of handled updates (once across all processes). At stop:
 * finish the calls in flight and hand campaigns back.
 */
@injectable()
export class WhatsappLifecycle implements PluginLifecycle {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private aliasing: Promise<unknown> = Promise.resolve();

  constructor(
    @inject(Campaigns) private readonly campaigns: Campaigns,
    @inject(InboundProcessor) private readonly inbound: InboundProcessor,
    @inject(ContactDirectory) private readonly contacts: ContactDirectory,
    @inject(Senders) private readonly senders: Senders,
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(PolicyEvaluator) private readonly policies: PolicyEvaluator,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.config.appSecret) this.logger.warn('WHATSAPP_APP_SECRET is not set: the webhook refuses every POST');
    if (this.senders.list().length === 0) this.logger.warn('no WhatsApp sender is configured: sending is unavailable');
    const missing = this.config.sendPolicies.filter((type) => !this.policies.provides(type));
    if (missing.length) this.logger.error('sendPolicies names policies no loaded plugin provides: API and bulk sends fail until their plugins are loaded or the names removed', { missing });
    await this.scheduler.every(this.config.webhook.pruneEvery, PRUNE_UPDATES_JOB, {}, { key: PRUNE_UPDATES_JOB });
    // In the background: contacts are found the old way (with a scan) until it is done.
    this.aliasing = this.contacts.completeAliases().catch((error: Error) => this.logger.error('whatsapp contact aliases not completed; contacts keep being found with a scan', { error: error.message }));
    await this.sweep(0);
    const every = Math.min(this.config.webhook.sweepEveryMs, this.config.bulk.leaseMs);
    this.timer = setInterval(() => { this.sweeping = this.sweep(5_000); }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    await this.aliasing;
    await this.campaigns.stop();
    await this.inbound.drain();
    this.senders.close();
  }

  private async sweep(updatesOlderThanMs: number): Promise<void> {
    try {
      await this.campaigns.resumeOrphans();
      await this.inbound.sweep(updatesOlderThanMs);
    } catch (error) {
      this.logger.error('whatsapp sweep failed', { error: (error as Error).message });
    }
  }
}

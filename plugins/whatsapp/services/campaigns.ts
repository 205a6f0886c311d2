/**
 * Bulk sends. A campaign and one queued message per recipient are stored before anything is
 * sent; the process holding the campaign's lease sends them, each claimed atomically, so a
 * restart (or a crash, once the lease expires) resumes where it stopped and sends nobody twice.
 * The lease is renewed on a timer while the campaign runs, not per batch: a batch may outlast a
 * lease (a deferral waited out, a slow Graph answer).
 *
 * The running process also holds the campaign's runner lock in Redis, extended on the same timer
 * whatever the database answers. A take-over needs both the lease expired and that lock free: so
 * two sweeps (whose conditional update FerretDB v1 does not isolate) cannot both take a campaign,
 * and a runner still alive whose renewals fail keeps its campaign, rather than have its sends in
 * flight marked `unknown` by a taker while Meta answers them.
 */
import { randomUUID } from 'node:crypto';
import { Types, type Model } from 'mongoose';
import type { Logger } from 'winston';
import { HttpError, inject, injectable, LoggerToken, MongoConnection, Realtime, RedisConnection, type RedisLock } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import { Senders } from '../graph/senders.js';
import { CampaignModel, type Campaign } from '../models/campaign.js';
import { MessageModel, type Message, type TemplateContent } from '../models/message.js';
import { MessageLocks } from './message-locks.js';
import { Messenger } from './messenger.js';
import { Outbox } from './outbox.js';

export interface CampaignRequest {
  name?: string;
  from?: string;
  text?: string;
  template?: TemplateContent;
  recipients: string[];
}

export interface CampaignProgress {
  id: string;
  name?: string;
  state: Campaign['state'];
  recipients: number;
  counts: Record<string, number>;
  done: number;
}

const runnerLock = (id: string) => `whatsapp.campaign:${id}`;

const FINISHED = ['accepted', 'sent', 'delivered', 'read', 'played', 'failed', 'denied', 'unknown', 'cancelled'];

@injectable()
export class Campaigns {
  /** Identifies this process as a lease holder. */
  private readonly owner = `${process.pid}:${randomUUID()}`;
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    @inject(CampaignModel.token) private readonly campaigns: Model<Campaign>,
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(Messenger) private readonly messenger: Messenger,
    @inject(Outbox) private readonly outbox: Outbox,
    @inject(Senders) private readonly senders: Senders,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(MessageLocks) private readonly locks: MessageLocks,
  ) {}

  async create(request: CampaignRequest, createdBy?: string): Promise<{ campaign: Campaign; duplicates: string[] }> {
    const sender = this.senders.resolve(request.from);
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const recipients: string[] = [];
    for (const raw of request.recipients) {
      const key = raw.replace(/[^\dA-Za-z.]/g, '');
      if (seen.has(key)) duplicates.push(raw);
      else { seen.add(key); recipients.push(raw); }
    }
    if (recipients.length > this.config.bulk.maxRecipients) {
      throw new HttpError(422, 'WHATSAPP_TOO_MANY_RECIPIENTS', `A campaign takes at most ${this.config.bulk.maxRecipients} recipients`);
    }
    const members = recipients.map((to) => ({ to, messageId: new Types.ObjectId() }));
    const campaign = (await this.campaigns.create({
      name: request.name, phoneNumberId: sender.phoneNumberId, text: request.text, template: request.template, recipients: recipients.length, members,
      state: 'running', leaseOwner: this.owner, leaseUntil: new Date(Date.now() + this.config.bulk.leaseMs), createdBy, createdAt: new Date(),
    })).toObject() as Campaign;
    const id = String(campaign._id);
    this.start(id);
    return { campaign, duplicates };
  }

  async progress(id: string): Promise<CampaignProgress | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const campaign = await this.campaigns.findById(id).lean<Campaign>();
    if (!campaign) return null;
    const groups = await this.messages.aggregate<{ _id: string; n: number }>([{ $match: { campaignId: id } }, { $group: { _id: '$status', n: { $sum: 1 } } }]);
    const counts = Object.fromEntries(groups.map((g) => [g._id, g.n]));
    const done = groups.filter((g) => FINISHED.includes(g._id)).reduce((sum, g) => sum + g.n, 0);
    return { id, ...(campaign.name ? { name: campaign.name } : {}), state: campaign.state, recipients: campaign.recipients, counts, done };
  }

  async recipients(id: string, limit: number, cursor?: string): Promise<Message[]> {
    return this.messages.find({ campaignId: id, ...(cursor ? { _id: { $gt: cursor } } : {}) }).sort({ _id: 1 }).limit(limit).lean<Message[]>();
  }

  /** Takes over campaigns whose lease expired and whose runner is gone (its process stopped or died), and runs them here. */
  async resumeOrphans(): Promise<number> {
    // Never one running here (its lease lapsed only because a renewal failed): taking it would
    // mark its sends in flight `unknown`, and their answers would not be recorded.
    const expired = await this.campaigns.find(
      { state: 'running', leaseUntil: { $lt: new Date() }, _id: { $nin: [...this.running.keys()] } }, { _id: 1 },
    ).lean<Array<Pick<Campaign, '_id'>>>();
    let resumed = 0;
    for (const { _id } of expired) {
      if (this.stopping) break;
      if (await this.takeOver(String(_id))) resumed++;
    }
    return resumed;
  }

  /**
   * Takes one campaign over under its runner lock, if its lease is still expired once the lock is
   * held. A campaign whose lock is taken stays where it is: its runner is alive, or another sweep
   * is taking it.
   */
  private async takeOver(id: string): Promise<boolean> {
    const lock = await this.redis.tryLock(runnerLock(id), this.config.bulk.leaseMs, this.owner);
    if (!lock) return false;
    try {
      const now = new Date();
      const taken = await this.mongo.findOneAndUpdateById(
        this.campaigns, { _id: id, state: 'running', leaseUntil: { $lt: now } },
        { $set: { leaseOwner: this.owner, leaseUntil: new Date(now.getTime() + this.config.bulk.leaseMs) } },
      );
      if (!taken) {
        await lock.release();
        return false;
      }
      await this.markOrphans(id);
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
    this.logger.info('resuming whatsapp campaign', { campaignId: id });
    this.start(id, lock);
    return true;
  }

  /**
   * Marks `unknown` the recipients still `sending`: with the runner lock held here, no live runner
   * is sending them, so the process that claimed each died mid-call, and Meta may have the message:
   * it is not resent. Each under the message's lock, as a status webhook settling it takes it too.
   */
  private async markOrphans(id: string): Promise<void> {
    const orphans = await this.messages.find({ campaignId: id, status: 'sending' }, { _id: 1 }).lean<Array<Pick<Message, '_id'>>>();
    for (const { _id } of orphans) {
      await this.locks.hold(_id, () => this.mongo.updateOneById(this.messages, { _id, status: 'sending' }, {
        $set: { status: 'unknown', statusRank: 1, error: { code: 0, category: 'unknown', retryable: true, reason: 'The sending process stopped before Meta answered' } },
      }));
    }
  }

  /** Stops sending after the calls in flight, and releases the leases so another process resumes at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.running.values());
  }

  /** Runs the campaign here, under its runner lock: `lock` when the caller took it already. */
  private start(id: string, lock?: RedisLock): void {
    if (this.running.has(id)) return;
    const run = this.run(id, lock)
      .catch((error: Error) => { this.logger.error('whatsapp campaign runner failed', { campaignId: id, error: error.message }); })
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
  }

  private async run(id: string, taken?: RedisLock): Promise<void> {
    const lock = taken ?? await this.redis.tryLock(runnerLock(id), this.config.bulk.leaseMs, this.owner);
    if (!lock) return; // another process runs it
    try {
      await this.runHolding(id, lock);
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  private async runHolding(id: string, lock: RedisLock): Promise<void> {
    const campaign = await this.campaigns.findById(id).lean<Campaign>();
    if (!campaign) return;
    const batchSize = this.config.bulk.concurrency;
    const lease = await this.keepLease(id, lock);
    try {
      let lastProgress = 0;
      for (let next = 0; next < campaign.members.length; next += batchSize) {
        if (this.stopping) {
          await this.campaigns.findOneAndUpdate({ _id: id, leaseOwner: this.owner }, { $set: { leaseUntil: new Date(0) } });
          return;
        }
        if (lease.lost) return; // completed elsewhere, or taken over after our lease expired
        await Promise.all(campaign.members.slice(next, next + batchSize).map((member) => this.sendMember(campaign, member)));
        if (Date.now() - lastProgress > 1_000) {
          lastProgress = Date.now();
          await this.announce(id);
        }
      }
      await this.campaigns.findOneAndUpdate({ _id: id, leaseOwner: this.owner }, { $set: { state: 'completed', completedAt: new Date() } });
      await this.announce(id);
    } finally {
      lease.stop();
    }
  }

  /**
   * Renews the campaign's lease and extends its runner lock now, then every third of the lease's
   * length until `stop`. `lost` turns true once a renewal finds the campaign no longer ours or no
   * longer running, or the lock taken by another (it expired): the run stops before its next
   * batch. A renewal that fails (the database or Redis unreachable) is tried again at the next
   * tick; while the lock is extended, the lease lapsing in the database hands the campaign to
   * nobody, and once both lapsed, another process may take it over and the claims keep each
   * message sent once.
   */
  private async keepLease(id: string, lock: RedisLock): Promise<{ readonly lost: boolean; stop(): void }> {
    let lost = false;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const renew = async (): Promise<void> => {
      const [held, renewed] = await Promise.allSettled([
        lock.extend(this.config.bulk.leaseMs),
        this.campaigns.updateOne({ _id: id, leaseOwner: this.owner, state: 'running' }, { $set: { leaseUntil: new Date(Date.now() + this.config.bulk.leaseMs) } }),
      ]);
      if ((held.status === 'fulfilled' && !held.value) || (renewed.status === 'fulfilled' && renewed.value.matchedCount === 0)) lost = true;
      const failed = [held, renewed].find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    };
    const next = (): void => {
      if (stopped || lost) return;
      timer = setTimeout(() => {
        renew()
          .catch((error: Error) => { this.logger.warn('whatsapp campaign lease not renewed', { campaignId: id, error: error.message }); })
          .finally(next);
      }, this.config.bulk.leaseMs / 3);
      timer.unref();
    };
    await renew();
    next();
    return {
      get lost() { return lost; },
      stop: () => { stopped = true; clearTimeout(timer); },
    };
  }

  /** Sends one recipient's message unless it was already sent; creates it first if a crash came before. */
  private async sendMember(campaign: Campaign, member: Campaign['members'][number]): Promise<void> {
    const id = String(campaign._id);
    let message = await this.messenger.get(String(member.messageId));
    if (!message) {
      ({ message } = await this.messenger.store(
        { to: member.to, from: campaign.phoneNumberId, text: campaign.text, template: campaign.template },
        { id: member.messageId, idempotencyKey: `campaign:${id}:${member.to.replace(/[^\dA-Za-z.]/g, '')}`, origin: 'campaign', campaignId: id, createdBy: campaign.createdBy, status: 'queued' },
      ));
    }
    if (message.status === 'queued') await this.outbox.sendStored(message._id, { waitUpToMs: this.config.bulk.waitForDeferralMs });
  }

  private async announce(id: string): Promise<void> {
    const progress = await this.progress(id);
    if (progress) this.realtime.publish('messages', 'campaign.progress', { ...progress });
  }
}

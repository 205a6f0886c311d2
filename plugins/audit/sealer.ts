/**
 * Seals entries into digests, like CloudTrail's digest files: each digest lists the hash of
 * every entry it covers and the hash of the digest before it, and is signed. Run by the
 * `audit.seal` job; a Redis lock and the unique digest number keep two sealers from racing.
 */
import type { Model } from 'mongoose';
import { inject, injectable, LoggerToken, Realtime, RedisConnection, type Logger } from '../../core/index.js';
import { digestHash, entryHash, GENESIS_ANCHOR, signDigestHash, type ChainAnchor, type ChainEntry, type SignedAnchor } from './chain.js';
import { AuditConfigToken, AuditKeysToken, type AuditConfig, type AuditKeys } from './config.js';
import { AuditCheckpointModel, AuditDigestModel, type AuditCheckpoint, type AuditDigest } from './models/audit-digest.js';
import { AuditEntryModel, type AuditEntry } from './models/audit-entry.js';
import { AuditSequence } from './sequence.js';

@injectable()
export class DigestSealer {
  constructor(
    @inject(AuditEntryModel.token) private readonly entries: Model<AuditEntry>,
    @inject(AuditDigestModel.token) private readonly digests: Model<AuditDigest>,
    @inject(AuditCheckpointModel.token) private readonly checkpoints: Model<AuditCheckpoint>,
    @inject(AuditSequence) private readonly sequence: AuditSequence,
    @inject(AuditConfigToken) private readonly config: AuditConfig,
    @inject(AuditKeysToken) private readonly keys: AuditKeys,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /** Where the newest digest's number and hash are kept outside MongoDB, to notice a removed tail. */
  get headKey(): string {
    return `${this.redis.keyPrefix}audit:head`;
  }

  async head(): Promise<{ digestNo: number; digestHash: string } | null> {
    const raw = await this.redis.client.get(this.headKey);
    return raw ? JSON.parse(raw) as { digestNo: number; digestHash: string } : null;
  }

  /** The retention checkpoint with its signature, or null when nothing was pruned. */
  async checkpoint(): Promise<SignedAnchor | null> {
    const checkpoint = await this.checkpoints.findById('checkpoint').lean<AuditCheckpoint>();
    return checkpoint && { digestNo: checkpoint.digestNo, digestHash: checkpoint.digestHash, throughSeq: checkpoint.throughSeq, signature: checkpoint.signature };
  }

  /** The start of the chain: the retention checkpoint, or genesis. */
  async anchor(): Promise<ChainAnchor> {
    return (await this.checkpoint()) ?? GENESIS_ANCHOR;
  }

  /**
   * Seals every entry older than `sealDelayMs` that no digest covers yet, in digests of at most
   * `maxEntriesPerDigest`. Returns how many digests it wrote (0 when another process holds the
   * lock, or when the stored chain no longer ends at the head kept in Redis).
   */
  async seal(): Promise<number> {
    const lock = await this.redis.tryLock('audit:seal-lock', 120_000);
    if (!lock) return 0;
    try {
      const problem = await this.headProblem();
      if (problem) {
        // Sealing on would sign whatever now stands where the removed digests were, and overwrite
        // the head that lets verification report the removal: stop until someone looks.
        this.logger.error('audit chain tampered with: not sealing', { problem });
        return 0;
      }
      let written = 0;
      for (;;) {
        const sealed = await this.sealOne();
        if (!sealed) return written;
        written++;
        if (sealed.count < this.config.maxEntriesPerDigest) return written;
      }
    } finally {
      await lock.release();
    }
  }

  /** Where the next digest chains on: the newest stored digest, or the anchor. */
  private async tail(): Promise<ChainAnchor> {
    const last = await this.digests.findOne({}).sort({ digestNo: -1 }).lean<AuditDigest>();
    return last ? { digestNo: last.digestNo, digestHash: last.digestHash, throughSeq: last.lastSeq } : this.anchor();
  }

  /**
   * Why the stored chain does not end at the head this sealer last wrote, or null. A stored chain
   * that goes past the head is fine (a sealer stopped between the digest and the head) as long as
   * the digest at the head's number is the one announced; with no head (Redis lost it) there is
   * nothing to compare.
   */
  private async headProblem(): Promise<string | null> {
    const [head, tail] = await Promise.all([this.head(), this.tail()]);
    if (!head) return null;
    if (tail.digestNo < head.digestNo) return `the newest stored digest is ${tail.digestNo}, but digest ${head.digestNo} was sealed`;
    const stored = tail.digestNo === head.digestNo
      ? tail.digestHash
      : (await this.digests.findOne({ digestNo: head.digestNo }, { digestHash: 1 }).lean<{ digestHash: string }>())?.digestHash;
    return stored !== undefined && stored !== head.digestHash ? `digest ${head.digestNo} differs from the one sealed` : null;
  }

  private async sealOne(): Promise<{ count: number } | null> {
    const previous = await this.tail();
    const now = await this.sequence.now();
    const cutoff = new Date(now.getTime() - this.config.sealDelayMs);
    // Timestamps rise with sequence numbers (sequence.ts), so everything from the first young
    // entry on waits, and so does everything from the lowest number whose write may still land
    // (one in flight, or one taken after this look: the batch never reaches past either).
    const young = await this.entries.findOne({ seq: { $gt: previous.throughSeq }, at: { $gte: cutoff } }, { seq: 1 }).sort({ seq: 1 }).lean<{ seq: number }>();
    const unsettled = await this.sequence.lowestInFlight(now);
    const range = { $gt: previous.throughSeq, $lt: Math.min(young?.seq ?? Infinity, unsettled) };
    const batch = await this.entries.find({ seq: range }).sort({ seq: 1 }).limit(this.config.maxEntriesPerDigest).lean<AuditEntry[]>();
    const first = batch[0];
    const lastEntry = batch.at(-1);
    if (!first || !lastEntry) return null;
    const body = {
      digestNo: previous.digestNo + 1,
      firstSeq: previous.throughSeq + 1,
      lastSeq: lastEntry.seq,
      seqs: batch.map((e) => e.seq),
      hashes: batch.map((e) => entryHash(e as unknown as ChainEntry)),
      firstAt: first.at,
      lastAt: lastEntry.at,
      previousDigestHash: previous.digestHash,
      sealedAt: new Date(),
    };
    const hash = digestHash(body);
    const digest: AuditDigest = { ...body, digestHash: hash, signature: signDigestHash(this.keys.signing, hash) };
    await this.digests.collection.insertOne(digest as unknown as Record<string, unknown>);
    await this.redis.client.set(this.headKey, JSON.stringify({ digestNo: digest.digestNo, digestHash: hash }));
    this.realtime.publish('audit', 'audit.sealed', { digestNo: digest.digestNo, firstSeq: digest.firstSeq, lastSeq: digest.lastSeq, count: batch.length });
    return { count: batch.length };
  }
}

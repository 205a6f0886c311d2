/**
 * Seals entries into digests, like CloudTrail's digest files: each digest lists the hash of
 * every entry it covers and the hash of the digest before it, and is signed. Run by the
 * `audit.seal` job; a Redis lock and the unique digest number keep two sealers from racing.
 */
import type { Model } from 'mongoose';
import { inject, injectable, Realtime, RedisConnection } from '../../core/index.js';
import { digestHash, entryHash, GENESIS_ANCHOR, signDigestHash, type ChainAnchor, type ChainEntry } from './chain.js';
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
  ) {}

  /** Where the newest digest's number and hash are kept outside MongoDB, to notice a removed tail. */
  get headKey(): string {
    return `${this.redis.keyPrefix}audit:head`;
  }

  async head(): Promise<{ digestNo: number; digestHash: string } | null> {
    const raw = await this.redis.client.get(this.headKey);
    return raw ? JSON.parse(raw) as { digestNo: number; digestHash: string } : null;
  }

  /** The start of the chain: the retention checkpoint, or genesis. */
  async anchor(): Promise<ChainAnchor> {
    const checkpoint = await this.checkpoints.findById('checkpoint').lean<AuditCheckpoint>();
    return checkpoint ? { digestNo: checkpoint.digestNo, digestHash: checkpoint.digestHash, throughSeq: checkpoint.throughSeq } : GENESIS_ANCHOR;
  }

  /**
   * Seals every entry older than `sealDelayMs` that no digest covers yet, in digests of at most
   * `maxEntriesPerDigest`. Returns how many digests it wrote (0 when another process holds the lock).
   */
  async seal(): Promise<number> {
    const lock = await this.redis.tryLock('audit:seal-lock', 120_000);
    if (!lock) return 0;
    try {
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

  private async sealOne(): Promise<{ count: number } | null> {
    const last = await this.digests.findOne({}).sort({ digestNo: -1 }).lean<AuditDigest>();
    const previous = last ? { digestNo: last.digestNo, digestHash: last.digestHash, throughSeq: last.lastSeq } : await this.anchor();
    const now = await this.sequence.now();
    const cutoff = new Date(now.getTime() - this.config.sealDelayMs);
    // Timestamps rise with sequence numbers (sequence.ts), so everything from the first young
    // entry on waits, and so does everything from the lowest number whose write is in flight.
    const young = await this.entries.findOne({ seq: { $gt: previous.throughSeq }, at: { $gte: cutoff } }, { seq: 1 }).sort({ seq: 1 }).lean<{ seq: number }>();
    const inFlight = await this.sequence.lowestInFlight(now);
    const limit = Math.min(young?.seq ?? Infinity, inFlight ?? Infinity);
    const range = { $gt: previous.throughSeq, ...(Number.isFinite(limit) ? { $lt: limit } : {}) };
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

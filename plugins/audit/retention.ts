/**
 * Retention: removes whole digests older than `retentionDays` with their entries, and moves the
 * checkpoint (where verification starts) to the last removed digest, so what remains still
 * verifies from there. The prune itself is recorded as an entry, sealed like any other.
 */
import type { Model } from 'mongoose';
import { inject, injectable } from '../../core/index.js';
import { AuditLog } from './audit-log.js';
import { signCheckpoint } from './chain.js';
import { AuditConfigToken, AuditKeysToken, type AuditConfig, type AuditKeys } from './config.js';
import { AuditCheckpointModel, AuditDigestModel, type AuditCheckpoint, type AuditDigest } from './models/audit-digest.js';
import { AuditEntryModel, type AuditEntry } from './models/audit-entry.js';

export interface PruneResult {
  digests: number;
  entries: number;
  throughSeq?: number;
}

@injectable()
export class RetentionPruner {
  constructor(
    @inject(AuditEntryModel.token) private readonly entries: Model<AuditEntry>,
    @inject(AuditDigestModel.token) private readonly digests: Model<AuditDigest>,
    @inject(AuditCheckpointModel.token) private readonly checkpoints: Model<AuditCheckpoint>,
    @inject(AuditLog) private readonly log: AuditLog,
    @inject(AuditConfigToken) private readonly config: AuditConfig,
    @inject(AuditKeysToken) private readonly keys: AuditKeys,
  ) {}

  /** Prunes digests whose newest entry is older than the cutoff (default: now − retentionDays). */
  async prune(cutoff = new Date(Date.now() - this.config.retentionDays * 86_400_000)): Promise<PruneResult> {
    // Only a run of digests from the oldest on can go, so the chain stays contiguous.
    const expired = await this.digests.find({ lastAt: { $lt: cutoff } }, { digestNo: 1 }).sort({ digestNo: 1 }).lean<Array<{ digestNo: number }>>();
    const oldest = await this.digests.findOne({}, { digestNo: 1 }).sort({ digestNo: 1 }).lean<{ digestNo: number }>();
    let throughNo = 0;
    for (const [i, digest] of expired.entries()) {
      if (oldest && digest.digestNo === oldest.digestNo + i) throughNo = digest.digestNo;
      else break;
    }
    if (!throughNo) return { digests: 0, entries: 0 };
    const last = await this.digests.findOne({ digestNo: throughNo }).lean<AuditDigest>();
    if (!last) return { digests: 0, entries: 0 };
    // Checkpoint first: if the process dies midway, verification already starts past what is being removed.
    const anchor = { digestNo: last.digestNo, digestHash: last.digestHash, throughSeq: last.lastSeq };
    await this.checkpoints.updateOne(
      { _id: 'checkpoint' },
      { $set: { ...anchor, prunedAt: new Date(), signature: signCheckpoint(this.keys.signing, anchor) } },
      { upsert: true },
    );
    const removedEntries = await this.entries.deleteMany({ seq: { $lte: last.lastSeq } });
    const removedDigests = await this.digests.deleteMany({ digestNo: { $lte: last.digestNo } });
    const result = { digests: removedDigests.deletedCount, entries: removedEntries.deletedCount, throughSeq: last.lastSeq };
    await this.log.record({
      actor: { kind: 'system', id: 'audit.prune' }, action: 'audit.retention.pruned', resource: { type: 'audit-digest', id: String(last.digestNo) },
      after: { ...result, checkpointDigestNo: last.digestNo, checkpointDigestHash: last.digestHash, cutoff: cutoff.toISOString() },
    });
    return result;
  }
}

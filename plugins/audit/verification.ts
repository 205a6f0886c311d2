/** Verifies the stored chain with the rules of chain.ts, streaming both collections once. */
import type { Model } from 'mongoose';
import { inject, injectable } from '../../core/index.js';
import { verifyChain, type ChainDigest, type ChainEntry, type VerifyReport } from './chain.js';
import { AuditKeysToken, type AuditKeys } from './config.js';
import { counted, type EntryProgress } from './counted.js';
import { AuditDigestModel, type AuditDigest } from './models/audit-digest.js';
import { AuditEntryModel, type AuditEntry } from './models/audit-entry.js';
import { DigestSealer } from './sealer.js';

@injectable()
export class ChainVerification {
  constructor(
    @inject(AuditEntryModel.token) private readonly entries: Model<AuditEntry>,
    @inject(AuditDigestModel.token) private readonly digests: Model<AuditDigest>,
    @inject(DigestSealer) private readonly sealer: DigestSealer,
    @inject(AuditKeysToken) private readonly keys: AuditKeys,
  ) {}

  /** Reads every digest and entry once; memory holds one digest's entries at a time. */
  async verify(maxFindings = 1000, onProgress?: EntryProgress): Promise<VerifyReport> {
    const [checkpoint, head, total] = await Promise.all([this.sealer.checkpoint(), this.sealer.head(), onProgress ? this.entries.estimatedDocumentCount() : 0]);
    const digests = this.digests.collection.find({}, { projection: { _id: 0 } }).sort({ digestNo: 1 }).batchSize(100);
    const entries = this.entries.collection.find({}).sort({ seq: 1 }).batchSize(5000);
    try {
      return await verifyChain({
        checkpoint, head, signingKey: this.keys.signing, maxFindings,
        digests: digests as unknown as AsyncIterable<ChainDigest>,
        entries: onProgress
          ? counted(entries as unknown as AsyncIterable<ChainEntry>, (checked) => onProgress(checked, total))
          : entries as unknown as AsyncIterable<ChainEntry>,
      });
    } finally {
      await Promise.all([digests.close(), entries.close()]);
    }
  }
}

import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * A sealed run of entries, like a CloudTrail digest file: the hash of each entry it covers and
 * the hash of the digest before it. `digestHash` covers every other field; `signature` is an
 * HMAC of `digestHash` with the signing key, which someone with database access alone lacks.
 */
export interface AuditDigest {
  digestNo: number;
  /** Covers sequence numbers `firstSeq..lastSeq`; `seqs` lists those that exist (gaps allowed). */
  firstSeq: number;
  lastSeq: number;
  seqs: number[];
  /** SHA-256 of each entry's canonical content, in the order of `seqs`. */
  hashes: string[];
  firstAt: Date;
  lastAt: Date;
  previousDigestHash: string;
  sealedAt: Date;
  digestHash: string;
  signature: string;
}

const schema = new Schema<AuditDigest>({
  digestNo: { type: Number, required: true },
  firstSeq: { type: Number, required: true },
  lastSeq: { type: Number, required: true },
  seqs: { type: [Number], required: true },
  hashes: { type: [String], required: true },
  firstAt: { type: Date, required: true },
  lastAt: { type: Date, required: true },
  previousDigestHash: { type: String, required: true },
  sealedAt: { type: Date, required: true },
  digestHash: { type: String, required: true },
  signature: { type: String, required: true },
}, { collection: 'audit_digests', versionKey: false });
schema.index({ digestNo: 1 }, { unique: true });
schema.index({ lastSeq: 1 });

export const AuditDigestModel = defineModel<AuditDigest>('AuditDigest', schema);

/**
 * Where the verifiable chain starts after retention pruned older digests: the last pruned
 * digest's number and hash, signed with the signing key (chain.ts `signCheckpoint`) so that
 * database access alone cannot move it. The prune also writes an audit entry saying so, sealed
 * like any other.
 */
export interface AuditCheckpoint {
  _id: string;
  digestNo: number;
  digestHash: string;
  throughSeq: number;
  prunedAt: Date;
  signature: string;
}

const checkpointSchema = new Schema<AuditCheckpoint>({
  _id: { type: String, required: true },
  digestNo: { type: Number, required: true },
  digestHash: { type: String, required: true },
  throughSeq: { type: Number, required: true },
  prunedAt: { type: Date, required: true },
  signature: { type: String, required: true },
}, { collection: 'audit_checkpoint', versionKey: false });

export const AuditCheckpointModel = defineModel<AuditCheckpoint>('AuditCheckpoint', checkpointSchema);

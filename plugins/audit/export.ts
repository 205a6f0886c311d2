/**
 * Streams entries with the digests that seal them, as NDJSON or CSV, so that an export can be
 * verified offline (`flowgate audit:verify --file`, or the steps in docs/security.md). The
 * period is widened to whole digests: a digest can only be checked with all its entries.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Model } from 'mongoose';
import { inject, injectable } from '../../core/index.js';
import { entryHash, type ChainAnchor, type ChainEntry } from './chain.js';
import { AuditDigestModel, type AuditDigest } from './models/audit-digest.js';
import { AuditEntryModel, type AuditEntry } from './models/audit-entry.js';
import { DigestSealer } from './sealer.js';

export type ExportFormat = 'ndjson' | 'csv';

/** First line of every export: what it covers and the anchor its first digest chains to. */
export interface ExportHeader {
  type: 'header';
  format: 'flowgate-audit-export';
  version: 1;
  from?: string;
  to?: string;
  anchor: ChainAnchor;
  exportedAt: string;
}

const CSV_COLUMNS = ['record', 'seq', 'id', 'at', 'actor_kind', 'actor_id', 'action', 'resource_type', 'resource_id', 'subject', 'status', 'ip', 'request_id', 'hash', 'json'];

function csvCell(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

@injectable()
export class AuditExport {
  constructor(
    @inject(AuditEntryModel.token) private readonly entries: Model<AuditEntry>,
    @inject(AuditDigestModel.token) private readonly digests: Model<AuditDigest>,
    @inject(DigestSealer) private readonly sealer: DigestSealer,
  ) {}

  async write(out: Writable, format: ExportFormat, period: { from?: Date; to?: Date }): Promise<void> {
    const anchorAll = await this.sealer.anchor();
    const firstDigest = period.from
      ? await this.digests.findOne({ lastAt: { $gte: period.from } }).sort({ digestNo: 1 }).lean<AuditDigest>()
      : await this.digests.findOne({}).sort({ digestNo: 1 }).lean<AuditDigest>();
    const lastDigest = period.to ? await this.digests.findOne({ lastAt: { $gte: period.to } }).sort({ digestNo: 1 }).lean<AuditDigest>() : null;
    const newest = await this.digests.findOne({}).sort({ digestNo: -1 }).lean<AuditDigest>();
    const lastSealedSeq = newest?.lastSeq ?? anchorAll.throughSeq;
    const anchor: ChainAnchor = firstDigest
      ? { digestNo: firstDigest.digestNo - 1, digestHash: firstDigest.previousDigestHash, throughSeq: firstDigest.firstSeq - 1 }
      : { digestNo: newest?.digestNo ?? anchorAll.digestNo, digestHash: newest?.digestHash ?? anchorAll.digestHash, throughSeq: lastSealedSeq };
    const seqRange: Record<string, number> = { $gt: anchor.throughSeq };
    if (lastDigest) seqRange.$lte = lastDigest.lastSeq;
    // Unsealed entries cannot be widened to a digest, so for them the period applies as given.
    const entryFilter = {
      seq: seqRange,
      $or: [{ seq: { $lte: lastSealedSeq } }, { ...(period.to || period.from ? { at: { ...(period.from ? { $gte: period.from } : {}), ...(period.to ? { $lte: period.to } : {}) } } : {}) }],
    };
    const header: ExportHeader = {
      type: 'header', format: 'flowgate-audit-export', version: 1, anchor, exportedAt: new Date().toISOString(),
      ...(period.from ? { from: period.from.toISOString() } : {}), ...(period.to ? { to: period.to.toISOString() } : {}),
    };
    const emit = async (line: string) => {
      if (!out.write(line)) await once(out, 'drain');
    };
    if (format === 'csv') await emit(`${CSV_COLUMNS.join(',')}\r\n${['header', '', '', header.exportedAt, '', '', '', '', '', '', '', '', '', '', JSON.stringify(header)].map(csvCell).join(',')}\r\n`);
    else await emit(`${JSON.stringify(header)}\n`);

    const entryCursor = this.entries.collection.find(entryFilter).sort({ seq: 1 }).batchSize(2000);
    for await (const raw of entryCursor) {
      const entry = raw as unknown as AuditEntry;
      if (format === 'csv') {
        const record = { ...entry, at: entry.at.toISOString() };
        await emit(`${['entry', entry.seq, entry._id, record.at, entry.actor.kind, entry.actor.id, entry.action, entry.resource.type, entry.resource.id, entry.subject, entry.status, entry.ip, entry.requestId, entryHash(entry as unknown as ChainEntry), JSON.stringify(record)].map(csvCell).join(',')}\r\n`);
      } else {
        await emit(`${JSON.stringify({ type: 'entry', entry })}\n`);
      }
    }
    // A digest sealed while the entries streamed may cover entries written after they were read:
    // the export stops at the newest digest that existed when it started.
    const digestFilter = { digestNo: { $gt: anchor.digestNo, $lte: lastDigest?.digestNo ?? newest?.digestNo ?? anchor.digestNo } };
    const digestCursor = this.digests.collection.find(digestFilter, { projection: { _id: 0 } }).sort({ digestNo: 1 }).batchSize(100);
    for await (const digest of digestCursor) {
      if (format === 'csv') await emit(`${['digest', digest.lastSeq, digest.digestNo, (digest.sealedAt as Date).toISOString(), '', '', '', '', '', '', '', '', '', digest.digestHash, JSON.stringify(digest)].map(csvCell).join(',')}\r\n`);
      else await emit(`${JSON.stringify({ type: 'digest', digest })}\n`);
    }
  }
}

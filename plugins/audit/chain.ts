/**
 * The audit chain's rules, free of storage, so the server (`GET /api/audit/verify`), the CLI and
 * an offline check of an export all run the very same code.
 *
 * An entry's hash covers its content but not its sequence number; a digest binds sequence
 * numbers to hashes. That is what lets verification tell a modified entry (its content matches
 * no sealed hash) from reordered ones (its content was sealed under another sequence number).
 */
import { timingSafeEqual } from 'node:crypto';
import { canonicalJson, GENESIS_HASH, hmacSha256, sha256 } from './canonical.js';

/** An entry as verification sees it; `at` may be a Date (database) or an ISO string (export). */
export interface ChainEntry {
  _id: string;
  seq: number;
  at: Date | string;
  [field: string]: unknown;
}

export interface ChainDigest {
  digestNo: number;
  firstSeq: number;
  lastSeq: number;
  seqs: number[];
  hashes: string[];
  firstAt: Date | string;
  lastAt: Date | string;
  previousDigestHash: string;
  sealedAt: Date | string;
  digestHash: string;
  signature?: string;
}

/** Where verification starts: nothing pruned (genesis) or the checkpoint retention left. */
export interface ChainAnchor {
  digestNo: number;
  digestHash: string;
  throughSeq: number;
}

export const GENESIS_ANCHOR: ChainAnchor = { digestNo: 0, digestHash: GENESIS_HASH, throughSeq: 0 };

const iso = (value: Date | string): string => (value instanceof Date ? value.toISOString() : value);

/** SHA-256 of an entry's canonical content without `seq` (see the module comment). */
export function entryHash(entry: ChainEntry): string {
  const { seq: _seq, at, ...content } = entry;
  return sha256(canonicalJson({ ...content, at: iso(at) }));
}

/** SHA-256 over every field of the digest except its own hash and signature. */
export function digestHash(digest: Omit<ChainDigest, 'digestHash' | 'signature'>): string {
  return sha256(canonicalJson({
    digestNo: digest.digestNo, firstSeq: digest.firstSeq, lastSeq: digest.lastSeq, seqs: digest.seqs, hashes: digest.hashes,
    firstAt: iso(digest.firstAt), lastAt: iso(digest.lastAt), previousDigestHash: digest.previousDigestHash, sealedAt: iso(digest.sealedAt),
  }));
}

export const signDigestHash = (key: Buffer, hash: string): string => hmacSha256(key, hash);

export interface EntryFinding {
  seq: number;
  id: string;
  digestNo: number;
}

export interface VerifyReport {
  ok: boolean;
  digestsChecked: number;
  entriesChecked: number;
  /** Entries newer than the last digest: not sealed yet, so not provable yet. */
  unsealedEntries: number;
  lastSealedSeq: number;
  /** Content differs from what was sealed under this sequence number. */
  modified: EntryFinding[];
  /** Sealed, but no longer stored. */
  deleted: Array<{ seq: number; digestNo: number }>;
  /** Stored inside a sealed range, but never sealed. */
  inserted: EntryFinding[];
  /** Content that was sealed under another sequence number (`sealedSeq`). */
  reordered: Array<EntryFinding & { sealedSeq: number }>;
  /** Digests that are missing, altered, unsigned or out of chain. */
  digests: Array<{ digestNo: number; problem: string }>;
  /** True when a list was cut at `maxFindings`. */
  truncated: boolean;
}

export interface VerifyInput {
  /** Digests in ascending `digestNo`. */
  digests: AsyncIterable<ChainDigest>;
  /** Entries in ascending `seq`. */
  entries: AsyncIterable<ChainEntry>;
  anchor?: ChainAnchor;
  /** The newest digest the sealer announced (kept outside the database), to notice a cut-off tail. */
  head?: { digestNo: number; digestHash: string } | null;
  /** Checks each digest's signature when given. */
  signingKey?: Buffer;
  maxFindings?: number;
}

/** Walks digests and entries once, side by side, holding one digest's entries in memory. */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const anchor = input.anchor ?? GENESIS_ANCHOR;
  const max = input.maxFindings ?? 1000;
  const report: VerifyReport = {
    ok: true, digestsChecked: 0, entriesChecked: 0, unsealedEntries: 0, lastSealedSeq: anchor.throughSeq,
    modified: [], deleted: [], inserted: [], reordered: [], digests: [], truncated: false,
  };
  const push = <T>(list: T[], item: T) => {
    if (list.length < max) list.push(item);
    else report.truncated = true;
  };
  const entries = input.entries[Symbol.asyncIterator]();
  let pending: ChainEntry | null = null;
  const next = async (): Promise<ChainEntry | null> => {
    if (pending) { const e = pending; pending = null; return e; }
    const step = await entries.next();
    return step.done ? null : step.value;
  };

  // Leftovers of an interrupted prune sit at or below the checkpoint; without one, nothing may.
  for (let entry = await next(); entry; entry = await next()) {
    if (entry.seq > anchor.throughSeq) { pending = entry; break; }
    if (anchor.digestNo === 0) push(report.inserted, { seq: entry.seq, id: entry._id, digestNo: 0 });
  }

  let previous = { digestNo: anchor.digestNo, digestHash: anchor.digestHash, lastSeq: anchor.throughSeq };
  for await (const digest of input.digests) {
    if (digest.digestNo <= anchor.digestNo) continue;
    report.digestsChecked++;
    if (digest.digestNo !== previous.digestNo + 1) {
      for (let missing = previous.digestNo + 1; missing < digest.digestNo; missing++) push(report.digests, { digestNo: missing, problem: 'missing' });
    }
    if (digest.previousDigestHash !== previous.digestHash) push(report.digests, { digestNo: digest.digestNo, problem: 'does not chain to the digest before it' });
    if (digestHash(digest) !== digest.digestHash) push(report.digests, { digestNo: digest.digestNo, problem: 'modified: its content does not match its hash' });
    if (input.signingKey && !sameHex(signDigestHash(input.signingKey, digest.digestHash), digest.signature ?? '')) {
      push(report.digests, { digestNo: digest.digestNo, problem: 'signature invalid' });
    }
    if (digest.seqs.length !== digest.hashes.length) push(report.digests, { digestNo: digest.digestNo, problem: 'malformed: seqs and hashes differ in length' });

    const sealed = new Map<number, string>();
    digest.seqs.forEach((seq, i) => sealed.set(seq, digest.hashes[i] as string));
    const sealedSeqOf = new Map<string, number>();
    for (const [seq, hash] of sealed) sealedSeqOf.set(hash, seq);
    const seen = new Set<number>();
    const mismatched: Array<{ entry: ChainEntry; hash: string }> = [];
    const unexpected: Array<{ entry: ChainEntry; hash: string }> = [];
    for (let entry = await next(); entry; entry = await next()) {
      if (entry.seq > digest.lastSeq) { pending = entry; break; }
      report.entriesChecked++;
      const hash = entryHash(entry);
      if (!sealed.has(entry.seq) || seen.has(entry.seq)) unexpected.push({ entry, hash });
      else {
        seen.add(entry.seq);
        if (sealed.get(entry.seq) !== hash) mismatched.push({ entry, hash });
      }
    }
    const deleted = new Set([...sealed.keys()].filter((seq) => !seen.has(seq)));
    for (const { entry, hash } of mismatched) {
      const sealedSeq = sealedSeqOf.get(hash);
      if (sealedSeq !== undefined) push(report.reordered, { seq: entry.seq, id: entry._id, digestNo: digest.digestNo, sealedSeq });
      else push(report.modified, { seq: entry.seq, id: entry._id, digestNo: digest.digestNo });
    }
    for (const { entry, hash } of unexpected) {
      const sealedSeq = sealedSeqOf.get(hash);
      if (sealedSeq !== undefined && deleted.delete(sealedSeq)) push(report.reordered, { seq: entry.seq, id: entry._id, digestNo: digest.digestNo, sealedSeq });
      else push(report.inserted, { seq: entry.seq, id: entry._id, digestNo: digest.digestNo });
    }
    for (const seq of deleted) push(report.deleted, { seq, digestNo: digest.digestNo });
    previous = { digestNo: digest.digestNo, digestHash: digest.digestHash, lastSeq: digest.lastSeq };
  }
  report.lastSealedSeq = previous.lastSeq;
  for (let entry = await next(); entry; entry = await next()) report.unsealedEntries++;

  if (input.head && input.head.digestNo > previous.digestNo) {
    for (let missing = previous.digestNo + 1; missing <= input.head.digestNo; missing++) push(report.digests, { digestNo: missing, problem: 'missing (the newest digests were removed)' });
  } else if (input.head && input.head.digestNo === previous.digestNo && input.head.digestHash !== previous.digestHash) {
    push(report.digests, { digestNo: previous.digestNo, problem: 'differs from the digest the sealer announced' });
  }
  report.ok = !report.modified.length && !report.deleted.length && !report.inserted.length && !report.reordered.length && !report.digests.length;
  return report;
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

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

/** The retention checkpoint: an anchor the prune signed, since moving it would hide removed digests. */
export interface SignedAnchor extends ChainAnchor {
  signature?: string;
}

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

/** HMAC of the anchor's fields; the `checkpoint` label keeps it from ever matching a digest's signature. */
export const signCheckpoint = (key: Buffer, anchor: ChainAnchor): string =>
  hmacSha256(key, canonicalJson({ checkpoint: { digestNo: anchor.digestNo, digestHash: anchor.digestHash, throughSeq: anchor.throughSeq } }));

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
  /** Entries in the range of a missing digest: nothing is left to check them against. */
  unverifiableEntries: number;
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
  /** Where an export starts (nothing signs it; the file is checked as given). */
  anchor?: ChainAnchor;
  /** Where the stored chain starts after retention, instead of `anchor`: with `signingKey`, its signature is checked. */
  checkpoint?: SignedAnchor | null;
  /** The newest digest the sealer announced (kept outside the database), to notice a cut-off tail. */
  head?: { digestNo: number; digestHash: string } | null;
  /** Checks each digest's signature when given. */
  signingKey?: Buffer;
  maxFindings?: number;
}

/** One digest's comparison, kept until its neighbours have been read. */
interface CheckedDigest {
  digestNo: number;
  sealedSeqOf: Map<string, number>;
  deleted: Set<number>;
  mismatched: Array<{ entry: ChainEntry; hash: string }>;
  unexpected: Array<{ entry: ChainEntry; hash: string }>;
}

/** Walks digests and entries once, side by side, holding three digests' findings in memory. */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const anchor = input.checkpoint ?? input.anchor ?? GENESIS_ANCHOR;
  const max = input.maxFindings ?? 1000;
  const report: VerifyReport = {
    ok: true, digestsChecked: 0, entriesChecked: 0, unsealedEntries: 0, unverifiableEntries: 0, lastSealedSeq: anchor.throughSeq,
    modified: [], deleted: [], inserted: [], reordered: [], digests: [], truncated: false,
  };
  const push = <T>(list: T[], item: T) => {
    if (list.length < max) list.push(item);
    else report.truncated = true;
  };
  // A checkpoint moved forward by hand hides the digests (and entries) before it.
  if (input.checkpoint && input.signingKey && !sameHex(signCheckpoint(input.signingKey, input.checkpoint), input.checkpoint.signature ?? '')) {
    push(report.digests, { digestNo: input.checkpoint.digestNo, problem: 'retention checkpoint not signed with the key' });
  }
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

  // Findings are classified with the digests on either side at hand, so an entry moved across a
  // digest boundary still reads as reordered; a digest's deletions are final once it leaves the window.
  const window: CheckedDigest[] = [];
  const classify = (checked: CheckedDigest, neighbours: CheckedDigest[]) => {
    const sealedElsewhere = (hash: string, seq: number) => {
      for (const other of neighbours) {
        const sealedSeq = other.sealedSeqOf.get(hash);
        if (sealedSeq !== undefined && sealedSeq !== seq) return { other, sealedSeq };
      }
      return null;
    };
    for (const { entry, hash } of checked.mismatched) {
      const found = sealedElsewhere(hash, entry.seq);
      if (found) push(report.reordered, { seq: entry.seq, id: entry._id, digestNo: checked.digestNo, sealedSeq: found.sealedSeq });
      else push(report.modified, { seq: entry.seq, id: entry._id, digestNo: checked.digestNo });
    }
    for (const { entry, hash } of checked.unexpected) {
      const found = sealedElsewhere(hash, entry.seq);
      if (found && found.other.deleted.delete(found.sealedSeq)) push(report.reordered, { seq: entry.seq, id: entry._id, digestNo: checked.digestNo, sealedSeq: found.sealedSeq });
      else push(report.inserted, { seq: entry.seq, id: entry._id, digestNo: checked.digestNo });
    }
  };
  const evict = (checked: CheckedDigest) => {
    for (const seq of checked.deleted) push(report.deleted, { seq, digestNo: checked.digestNo });
  };

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
    if (input.head?.digestNo === digest.digestNo && input.head.digestHash !== digest.digestHash) push(report.digests, { digestNo: digest.digestNo, problem: 'differs from the digest the sealer announced' });

    const sealed = new Map<number, string>();
    digest.seqs.forEach((seq, i) => sealed.set(seq, digest.hashes[i] as string));
    const checked: CheckedDigest = { digestNo: digest.digestNo, sealedSeqOf: new Map(), deleted: new Set(), mismatched: [], unexpected: [] };
    for (const [seq, hash] of sealed) checked.sealedSeqOf.set(hash, seq);
    const seen = new Set<number>();
    for (let entry = await next(); entry; entry = await next()) {
      if (entry.seq > digest.lastSeq) { pending = entry; break; }
      if (entry.seq < digest.firstSeq && digest.digestNo !== previous.digestNo + 1) { report.unverifiableEntries++; continue; }
      report.entriesChecked++;
      const hash = entryHash(entry);
      if (!sealed.has(entry.seq) || seen.has(entry.seq)) checked.unexpected.push({ entry, hash });
      else {
        seen.add(entry.seq);
        if (sealed.get(entry.seq) !== hash) checked.mismatched.push({ entry, hash });
      }
    }
    for (const seq of sealed.keys()) if (!seen.has(seq)) checked.deleted.add(seq);
    window.push(checked);
    if (window.length >= 2) classify(window[window.length - 2] as CheckedDigest, window.slice(-3));
    if (window.length >= 3) evict(window.shift() as CheckedDigest);
    previous = { digestNo: digest.digestNo, digestHash: digest.digestHash, lastSeq: digest.lastSeq };
  }
  const last = window.at(-1);
  if (last) classify(last, window.slice(-2));
  for (const checked of window) evict(checked);
  report.lastSealedSeq = previous.lastSeq;
  for (let entry = await next(); entry; entry = await next()) report.unsealedEntries++;

  if (input.head && input.head.digestNo > previous.digestNo) {
    for (let missing = previous.digestNo + 1; missing <= input.head.digestNo; missing++) push(report.digests, { digestNo: missing, problem: 'missing (the newest digests were removed)' });
  } else if (input.head?.digestNo === anchor.digestNo && input.head.digestHash !== anchor.digestHash) {
    push(report.digests, { digestNo: anchor.digestNo, problem: 'differs from the digest the sealer announced' });
  }
  report.ok = !report.modified.length && !report.deleted.length && !report.inserted.length && !report.reordered.length && !report.digests.length;
  return report;
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Verifies an export file without the server or its database: the same chain rules as the
 * online check, over the NDJSON or CSV the export route wrote. The file is read twice (once for
 * digests, once for entries) so memory stays flat whatever its size.
 */
import { createReadStream } from 'node:fs';
import { verifyChain, type ChainDigest, type ChainEntry, type VerifyReport } from './chain.js';
import { counted, type EntryProgress } from './counted.js';
import type { ExportHeader } from './export.js';

type ExportRecord = ExportHeader | { type: 'entry'; entry: ChainEntry } | { type: 'digest'; digest: ChainDigest };

/** The last field of a CSV line, where the export keeps each record as JSON. */
function lastCsvField(line: string): string {
  if (!line.endsWith('"')) return line.slice(line.lastIndexOf(',') + 1);
  let start = line.length - 1;
  for (;;) {
    const quote = line.lastIndexOf('"', start - 1);
    if (quote <= 0 || line[quote - 1] !== '"') { start = quote; break; }
    start = quote - 1;
  }
  return line.slice(start + 1, -1).replace(/""/g, '"');
}

/** Lines of a file, read no faster than they are consumed (readline would buffer ahead of a slow reader). */
async function* lines(path: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) yield part.endsWith('\r') ? part.slice(0, -1) : part;
  }
  if (rest) yield rest;
}

/** Records of the file; with `only`, NDJSON lines of other kinds are skipped before parsing. */
async function* records(path: string, only?: ExportRecord['type']): AsyncGenerator<ExportRecord> {
  let csv: boolean | null = null;
  const marker = only ? `{"type":"${only}"` : '';
  for await (const line of lines(path)) {
    if (!line.trim()) continue;
    if (csv === false && marker && !line.startsWith(marker)) continue;
    if (csv === null) {
      csv = line.startsWith('record,');
      if (csv) continue;
    }
    const parsed = JSON.parse(csv ? lastCsvField(line) : line) as Record<string, unknown>;
    if (!csv) yield parsed as ExportRecord;
    else if (parsed.type === 'header') yield parsed as unknown as ExportHeader;
    else if ('digestNo' in parsed) yield { type: 'digest', digest: parsed as unknown as ChainDigest };
    else yield { type: 'entry', entry: parsed as unknown as ChainEntry };
  }
}

async function* only<K extends 'entry' | 'digest'>(path: string, kind: K): AsyncGenerator<K extends 'entry' ? ChainEntry : ChainDigest> {
  for await (const record of records(path, kind)) {
    if (record.type === 'entry' && kind === 'entry') yield record.entry as K extends 'entry' ? ChainEntry : ChainDigest;
    if (record.type === 'digest' && kind === 'digest') yield record.digest as K extends 'entry' ? ChainEntry : ChainDigest;
  }
}

export async function verifyExportFile(path: string, signingKey?: Buffer, onProgress?: EntryProgress): Promise<VerifyReport & { header: ExportHeader }> {
  let header: ExportHeader | null = null;
  for await (const record of records(path)) {
    if (record.type === 'header') header = record;
    break;
  }
  if (!header) throw new Error(`${path} is not a Flowgate audit export: its first record is not the header`);
  const report = await verifyChain({ anchor: header.anchor, digests: only(path, 'digest'), entries: onProgress ? counted(only(path, 'entry'), (checked) => onProgress(checked)) : only(path, 'entry'), signingKey });
  return { ...report, header };
}

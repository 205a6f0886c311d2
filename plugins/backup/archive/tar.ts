/**
 * A minimal streaming tar (POSIX ustar) writer for the archive download: one header per file,
 * the file's bytes, zero padding to 512, two zero blocks at the end. Sizes are known up front,
 * so nothing is buffered and the total length can be sent as Content-Length.
 */
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';

const BLOCK = 512;

export interface TarEntry {
  /** Folder inside the tar (the backup id). */
  readonly folder: string;
  readonly name: string;
  readonly size: number;
  readonly open: () => Promise<Readable>;
}

function header(folder: string, name: string, size: number, mtime: Date): Buffer {
  const block = Buffer.alloc(BLOCK, 0);
  const field = (value: string, offset: number, length: number) => block.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0');
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(size, 12), 124, 12);
  field(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\u000000', 257, 8);
  field(folder, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  field(`${octal(sum, 7)}\u0000`, 148, 8);
  return block;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

export function tarLength(entries: readonly TarEntry[]): number {
  return entries.reduce((total, e) => total + BLOCK + e.size + padding(e.size), 0) + 2 * BLOCK;
}

async function write(out: Writable, data: Buffer): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}

/** Writes the entries to `out` with backpressure; rejects if a file's length differs from `size`. */
export async function writeTar(out: Writable, entries: readonly TarEntry[], mtime: Date): Promise<void> {
  for (const entry of entries) {
    await write(out, header(entry.folder, entry.name, entry.size, mtime));
    let written = 0;
    for await (const chunk of await entry.open()) {
      written += (chunk as Buffer).length;
      await write(out, chunk as Buffer);
    }
    if (written !== entry.size) throw new Error(`${entry.name} changed while it was being sent`);
    await write(out, Buffer.alloc(padding(entry.size), 0));
  }
  await write(out, Buffer.alloc(2 * BLOCK, 0));
}

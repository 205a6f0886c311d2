/**
 * One document per line in MongoDB Extended JSON, canonical mode: every BSON type keeps its exact
 * type (Int32 vs Double vs Long, Decimal128, Binary subtypes, dates), so a restore writes back
 * byte-for-byte the same values. Documents must be read with `promoteValues: false` for that.
 */
import { createHash } from 'node:crypto';
import { BSON, type Document } from 'mongodb';

export function encodeDocument(document: Document): string {
  return BSON.EJSON.stringify(document, { relaxed: false });
}

/** Throws a SyntaxError (or a BSON error) when the line is not one Extended JSON object. */
export function decodeLine(line: string): Document {
  const value: unknown = BSON.EJSON.parse(line, { relaxed: false });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('a line is not a JSON object');
  return value as Document;
}

/**
 * An order-independent digest of a collection's documents: the sum, lane by lane modulo 2^64, of
 * the SHA-256 of each document's line. It is the same whatever order the database returns the
 * documents in, so a restored collection can be compared with the archive it came from.
 */
export class ContentDigest {
  private readonly lanes = new BigUint64Array(4);

  add(line: string): void {
    const hash = createHash('sha256').update(line).digest();
    for (let lane = 0; lane < 4; lane++) this.lanes[lane] = BigInt.asUintN(64, (this.lanes[lane] as bigint) + hash.readBigUInt64BE(lane * 8));
  }

  hex(): string {
    return [...this.lanes].map((lane) => lane.toString(16).padStart(16, '0')).join('');
  }
}

/** Splits a byte stream into UTF-8 lines without holding more than one line beyond a chunk. */
export async function* readLines(source: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(0x0a, start); end !== -1; end = data.indexOf(0x0a, start)) {
      yield data.toString('utf8', start, end);
      start = end + 1;
    }
    rest = data.subarray(start);
  }
  if (rest.length) yield rest.toString('utf8');
}

/** Reports how many entries a verification has read, for the CLI's progress line. */
export type EntryProgress = (checked: number, total?: number) => void;

const EVERY = 1_000;

/** Passes `source` through unchanged, calling `report` every thousand items and at the end. */
export async function* counted<T>(source: AsyncIterable<T>, report: (count: number) => void): AsyncGenerator<T> {
  let count = 0;
  for await (const item of source) {
    yield item;
    if (++count % EVERY === 0) report(count);
  }
  report(count);
}

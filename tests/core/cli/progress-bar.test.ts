import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressBar } from '../../../core/index.js';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return { stream: new Writable({ write(chunk: Buffer, _encoding, callback) { text += chunk.toString(); callback(); } }), text: () => text };
}

describe('core/cli/progress-bar', () => {
  it('prints a plain line every tenth of the way when the output is not a terminal', () => {
    const out = sink();
    const bar = new ProgressBar(out.stream, 'backup', { unit: 'documents' });
    for (let done = 0; done <= 3000; done += 100) bar.update(done, 3000, 'dump messages');
    bar.done('backup 1: 3000 documents');
    const lines = out.text().trimEnd().split('\n');
    assert.equal(lines.length, 12, out.text());
    assert.equal(lines[0], `backup [${'-'.repeat(30)}]   0% 0/3,000 documents  dump messages`);
    assert.equal(lines[10], `backup [${'#'.repeat(30)}] 100% 3,000/3,000 documents  dump messages`);
    assert.equal(lines[11], 'backup 1: 3000 documents');
    assert.equal(out.text().includes('\r'), false, 'no carriage returns in logs');
  });

  it('redraws one line in place on a terminal and clears it at the end', () => {
    const out = sink();
    const bar = new ProgressBar(out.stream, 'verify', { unit: 'entries', tty: true });
    bar.update(10, 100, 'audit log');
    bar.update(100, 100, 'audit log');
    bar.done();
    assert.equal(out.text(), `\rverify [###---------------------------]  10% 10/100 entries  audit log\u001b[K\rverify [${'#'.repeat(30)}] 100% 100/100 entries  audit log\u001b[K\r\u001b[K`);
  });

  it('counts without a bar when the total is unknown', () => {
    const out = sink();
    const bar = new ProgressBar(out.stream, 'verify', { unit: 'entries' });
    bar.update(12_000, undefined, 'export.ndjson');
    assert.equal(out.text(), 'verify 12,000 entries  export.ndjson\n');
  });
});

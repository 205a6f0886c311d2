/** A consent change whose insert landed but whose state write did not is applied when the change is retried. */
import assert from 'node:assert/strict';
import { ConsentLedger } from '../../../plugins/consent/services/consent-ledger.js';
import { startConsent, type ConsentHarness } from './harness.js';

describe('plugin consent: the ledger retried after a failure between its two writes', () => {
  let h: ConsentHarness;
  before(async () => { h = await startConsent('consent-faults'); });
  after(async () => { await h.stop(); });

  it('a retried opt-out (same idempotency key) moves the state when the first try stored the change but not the state', async () => {
    const ledger = h.t.server.get(ConsentLedger);
    const records = (ledger as unknown as { records: { updateOne: (...args: unknown[]) => Promise<unknown> } }).records;
    const phone = `4477008${String(Date.now()).slice(-5)}`;
    const request = { phone, state: 'opted_out' as const, source: 'keyword' as const, evidence: { text: 'STOP' }, idempotencyKey: `retried-${phone}` };
    const original = records.updateOne;
    // MongoDB goes away (or the process dies) after the change's insert, before the state's write.
    records.updateOne = async () => { records.updateOne = original; throw new Error('connection closed'); };
    await assert.rejects(ledger.record(request), /connection closed/);
    records.updateOne = original;
    // The step (or the webhook update) is retried with the same key, as the engine and the inbound sweep do.
    const again = await ledger.record(request);
    assert.equal(again.consent.state, 'opted_out', `the opt-out is in the history but the state is ${again.consent.state}`);
    assert.equal((await ledger.get(phone)).state, 'opted_out');
  });
});

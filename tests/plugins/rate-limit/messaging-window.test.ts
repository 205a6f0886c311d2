/**
 * The messaging limit counts unique recipients in any moving window: a recipient reached again
 * stays in the window until a full window after the latest send, not the first.
 */
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../plugins/rate-limit/services/rate-limiter.js';
import { newPhone, SHORT_WINDOWS, startRate, type RateHarness } from './harness.js';

const WINDOW = 10_000;
const LIMIT = 3;

describe('plugin rate: the messaging limit over a moving window', () => {
  let h: RateHarness;
  before(async () => {
    h = await startRate('rate-window', {
      rate: { perSecond: 1000, windows: { ...SHORT_WINDOWS, messagingMs: WINDOW }, messagingLimits: { TIER_250: LIMIT, TIER_2K: 2000, TIER_10K: 10000, TIER_100K: 100000 } },
    });
  });
  after(async () => { await h.stop(); });

  it('never lets more unique recipients through in any moving window than the tier allows', async () => {
    const limiter = h.t.server.get(RateLimiter);
    const sender = '555000111';
    const decide = (recipient: string, now: number) => limiter.decide({ sender, recipient, countsTowardMessagingLimit: true, consume: true }, now);
    const t0 = Date.now();
    const sent: Array<{ recipient: string; at: number }> = [];
    const first = Array.from({ length: LIMIT }, () => newPhone());
    // t0: the tier's 3 recipients.
    for (const r of first) if ((await decide(r, t0)).allowed) sent.push({ recipient: r, at: t0 });
    // t0 + 9 s: the same 3 again (already counted: allowed).
    for (const r of first) if ((await decide(r, t0 + 9_000)).allowed) sent.push({ recipient: r, at: t0 + 9_000 });
    // t0 + 10.5 s: 3 new recipients.
    for (const r of Array.from({ length: LIMIT }, () => newPhone())) if ((await decide(r, t0 + 10_500)).allowed) sent.push({ recipient: r, at: t0 + 10_500 });
    // The moving window [t0 + 9 s, t0 + 19 s] must hold at most LIMIT unique recipients.
    const inWindow = new Set(sent.filter((s) => s.at >= t0 + 9_000 && s.at < t0 + 9_000 + WINDOW).map((s) => s.recipient));
    assert.ok(inWindow.size <= LIMIT, `${inWindow.size} unique recipients reached within one ${WINDOW} ms window (limit ${LIMIT})`);
  });
});

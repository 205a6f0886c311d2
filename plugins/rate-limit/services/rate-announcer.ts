/**
 * Tells people about limits: the `rate-limits` socket topic, a core `activity` event (the audit
 * plugin records it) and Prometheus metrics. The limiter raises a warning once per window, so
 * this fires once per window too, whichever process made the send that crossed the threshold.
 */
import { CoreEvents, inject, injectable, Metrics, Realtime, type Principal } from '../../../core/index.js';
import type { Counter } from 'prom-client';
import type { RateCode, Warning } from './rate-limiter.js';

export const RATE_TOPIC = 'rate-limits';

@injectable()
export class RateAnnouncer {
  private readonly warnings: Counter<'limit'>;
  private readonly deferrals: Counter<'code'>;
  private readonly backoffs: Counter<'scope'>;

  constructor(
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(CoreEvents) private readonly events: CoreEvents,
    @inject(Metrics) metrics: Metrics,
  ) {
    this.warnings = metrics.counter('flowgate_rate_limit_warnings_total', 'Rate-limit warnings raised (a cap passed its warning threshold), once per window', ['limit']);
    this.deferrals = metrics.counter('flowgate_rate_limit_deferrals_total', 'Sends deferred by a rate limit, by code', ['code']);
    this.backoffs = metrics.counter('flowgate_rate_limit_backoffs_total', 'Backoffs started after a provider rate-limit error', ['scope']);
  }

  warning(phoneNumberId: string, portfolio: string | null, warning: Warning, threshold: number): void {
    const payload = { phoneNumberId, portfolio, limit: warning.limit, used: warning.used, cap: warning.cap, threshold, at: new Date().toISOString() };
    this.warnings.inc({ limit: warning.limit });
    this.realtime.publish(RATE_TOPIC, 'rate.warning', payload);
    this.events.emit('activity', {
      action: 'rate.warning', actor: null, resource: { type: 'sender', id: phoneNumberId }, outcome: 'succeeded', details: payload,
    });
  }

  deferred(code: RateCode): void {
    this.deferrals.inc({ code });
  }

  backoff(phoneNumberId: string, recipient: string | undefined, until: Date, errorCode: number): void {
    this.backoffs.inc({ scope: recipient ? 'pair' : 'sender' });
    // The recipient's number is personal data: the event names the sender only.
    this.realtime.publish(RATE_TOPIC, 'rate.backoff', { phoneNumberId, scope: recipient ? 'pair' : 'sender', until: until.toISOString(), errorCode });
  }

  /** Pause, resume, reset and changes over the API; the audit records the request itself. */
  changed(phoneNumberId: string, change: 'paused' | 'resumed' | 'reset' | 'updated', by: Principal | null): void {
    this.realtime.publish(RATE_TOPIC, `rate.${change}`, { phoneNumberId, by: by?.id ?? null, at: new Date().toISOString() });
  }
}

import { EngineClock, inject, injectable } from 'flowgate/sdk';
import { QuietHoursConfigToken, type QuietHoursConfig } from './config.js';
import { inWindow, localMinutes, minutesOf, nextLocalTime } from './local-time.js';
import type { QuietState } from './schemas.js';

/** A quiet window in local time, `HH:MM`; it may wrap past midnight. */
export interface QuietWindow {
  readonly start: string;
  readonly end: string;
}

/** Knows each contact's time zone (from the phone number's prefix) and whether it is night there. */
@injectable()
export class QuietHours {
  /** Prefixes longest first, so `1808` (Hawaii) wins over `1`. */
  private readonly prefixes: Array<[string, string]>;

  constructor(
    @inject(QuietHoursConfigToken) private readonly config: QuietHoursConfig,
    @inject(EngineClock) private readonly clock: EngineClock,
  ) {
    this.prefixes = Object.entries(config.timeZones as Record<string, string>).sort(([a], [b]) => b.length - a.length);
  }

  /** The zone for a phone number; business-scoped ids (`US.123…`) and unknown prefixes get the default. */
  timeZoneOf(phone: string): string {
    const digits = /^\+?[0-9][0-9 ()-]*$/.test(phone) ? phone.replace(/\D/g, '') : '';
    return this.prefixes.find(([prefix]) => digits.startsWith(prefix))?.[1] ?? this.config.defaultTimeZone;
  }

  /** Whether `phone` is in its quiet hours at engine time, and when they end. */
  state(phone: string, window: Partial<QuietWindow> = {}): QuietState {
    const at = this.clock.now();
    const timeZone = this.timeZoneOf(phone);
    const minute = localMinutes(at, timeZone);
    const end = minutesOf(window.end ?? this.config.end);
    const quiet = inWindow(minute, minutesOf(window.start ?? this.config.start), end);
    return {
      phone,
      timeZone,
      localTime: `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`,
      quiet,
      resumesAt: quiet ? nextLocalTime(at, timeZone, end).toISOString() : null,
    };
  }
}

import { injectable } from 'inversify';

/**
 * The engine's notion of now. Production reads the system clock; tests move it forward to
 * check backoff and deferral timing without sleeping.
 */
@injectable()
export class EngineClock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves this process's engine time forward (tests). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

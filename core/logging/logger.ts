/**
 * Structured JSON logs (one line per entry) with secrets redacted before anything is written.
 * Child loggers carry `requestId`, `executionId` and `plugin` so every line can be traced.
 */
import winston from 'winston';

const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|signature|credential/i;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s]*:)[^@\s]+@/gi;
export const REDACTED = '[redacted]';

/** Returns a copy of `value` with secret-looking keys and inline credentials replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') return value.replace(BEARER, `$1 ${REDACTED}`).replace(URL_PASSWORD, `$1${REDACTED}@`);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1), stack: redact(value.stack, depth + 1) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null && typeof inner !== 'boolean' ? REDACTED : redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    const value = info[key];
    info[key] = SECRET_KEY.test(key) && value !== undefined && value !== null && typeof value !== 'boolean' ? REDACTED : redact(value);
  }
  return info;
});

export interface LoggerOptions {
  level: 'error' | 'warn' | 'info' | 'http' | 'debug' | 'silent';
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): winston.Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level === 'silent' ? 'error' : options.level,
    silent: options.level === 'silent',
    format: winston.format.combine(winston.format.timestamp(), redactFormat(), winston.format.json()),
    defaultMeta: { service: 'flowgate', pid: process.pid },
    transports: [transport],
  });
}

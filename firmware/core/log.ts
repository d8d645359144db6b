/**
 * Structured logging: one JSON object a line on stdout (journald keeps it on
 * the device), the same records in a bounded ring the web page and `dvr status`
 * can show, and secrets redacted before either sees them.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// syslog priorities, understood by journald when prefixed as <N>.
const SYSLOG: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface LogRecord {
  t: string;
  level: LogLevel;
  svc: string;
  msg: string;
  [field: string]: unknown;
}

export type LogSink = (record: LogRecord, line: string) => void;

const SECRET_KEY = /pass(word)?|secret|token|credential|authorization|cookie|private.?key|api.?key/i;

/** Whether a field of this name holds a secret (redacted in logs and in the config the API shows). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Replaces the values of secret-looking keys, and passwords inside URLs, with "***".
 * Log fields can be of any shape, so a value deeper than `maxDepth` reads
 * "[deep]"; the config, whose depth its schema bounds, is redacted whole
 * (`Infinity`): cut short, it would not restore.
 */
export function redact(value: unknown, depth = 0, maxDepth = 6): unknown {
  if (depth > maxDepth) return '[deep]';
  if (typeof value === 'string') return value.replace(/(\w+:\/\/[^:/@\s]+:)[^@\s]+@/g, '$1***@');
  if (value instanceof Error) return { error: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, maxDepth));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redact(v, depth + 1, maxDepth);
    return out;
  }
  return value;
}

export class LogRing {
  private readonly items: LogRecord[] = [];
  constructor(readonly capacity = 2000) {}

  push(r: LogRecord): void {
    this.items.push(r);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** Newest last; optionally only records at or above a level. */
  tail(n = this.capacity, minLevel: LogLevel = 'debug'): LogRecord[] {
    return this.items.filter((r) => LEVELS[r.level] >= LEVELS[minLevel]).slice(-n);
  }
}

export interface LoggerOptions {
  level?: LogLevel;
  sink?: LogSink;
  ring?: LogRing;
  now?: () => number;
}

export function stdoutSink(env: NodeJS.ProcessEnv = process.env): LogSink {
  const journald = Boolean(env.JOURNAL_STREAM);
  return (record, line) => {
    process.stdout.write(journald ? `<${SYSLOG[record.level]}>${line}\n` : `${line}\n`);
  };
}

export class Logger {
  private readonly min: number;
  private readonly sink: LogSink;
  readonly ring: LogRing;
  private readonly now: () => number;

  constructor(readonly svc = 'dvr', opts: LoggerOptions = {}) {
    this.min = LEVELS[opts.level ?? 'info'];
    this.sink = opts.sink ?? stdoutSink();
    this.ring = opts.ring ?? new LogRing();
    this.now = opts.now ?? Date.now;
  }

  /** A logger for one service, sharing sink and ring. */
  child(svc: string): Logger {
    const c = Object.create(this) as Logger;
    (c as { svc: string }).svc = svc;
    return c;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.min) return;
    const record: LogRecord = { t: new Date(this.now()).toISOString(), level, svc: this.svc, msg: redact(msg) as string };
    if (fields) {
      // Fields come after the fixed keys and never overwrite them.
      for (const [k, v] of Object.entries(redact(fields) as Record<string, unknown>)) if (!(k in record)) record[k] = v;
    }
    this.ring.push(record);
    this.sink(record, JSON.stringify(record));
  }
}

/** A logger that keeps records only in memory: for tests and CLI internals. */
export function memoryLogger(svc = 'test'): Logger {
  return new Logger(svc, { level: 'debug', sink: () => {} });
}

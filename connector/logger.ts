// Diagnostics go to stderr through pino; stdout belongs to the protocol. For programs (log
// collectors, and whatever runs the protocol commands) a log line is a JSON object; for a person at
// a terminal it is a sentence, written above whatever is drawn live there (load's progress table).
// API keys are redacted wherever they might appear.
import { createLogUpdate } from 'log-update';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const PREFIXES: Record<number, string> = { 10: 'Trace: ', 20: 'Debug: ', 40: 'Warning: ', 50: 'Error: ', 60: 'Error: ' };

function described(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.map(described).join(', ');
  return `(${Object.entries(value).map(([key, inner]) => `${key} ${described(inner)}`).join(', ')})`;
}

/** A pino line as a person reads it: its message, then its fields ("write finished (records 30008, commits 2)"). */
export function logSentence(line: string): string {
  const { level, time: _time, msg, err, ...fields } = JSON.parse(line) as { level: number; time?: number; msg?: string; err?: { message?: string } } & Record<string, unknown>;
  const details = Object.keys(fields).length > 0 ? ` ${described(fields)}` : '';
  const error = err?.message ? `: ${err.message}` : '';
  return `${PREFIXES[level] ?? ''}${msg ?? ''}${error}${details}`;
}

/**
 * stderr as a person sees it: log lines as sentences, and a live area below them that is redrawn
 * in place (log-update). A line written while the area is drawn clears it, is written, and the
 * area is drawn again below it, so that neither breaks the other.
 */
export class Terminal implements DestinationStream {
  private live: ReturnType<typeof createLogUpdate> | undefined;
  private frame = '';

  constructor(private readonly stream: NodeJS.WritableStream) {}

  /** pino's destination: one JSON line a call. */
  write(line: string): void {
    this.print(logSentence(line));
  }

  /** Writes a line above the live area. */
  print(text: string): void {
    this.live?.clear();
    this.stream.write(`${text}\n`);
    this.live?.(this.frame);
  }

  /** Draws the live area, or draws it again with new content. */
  draw(frame: string): void {
    this.live ??= createLogUpdate(this.stream);
    this.frame = frame;
    this.live(frame);
  }

  /** Clears the live area for good: the lines above it stay. */
  clearLive(): void {
    this.live?.clear();
    this.live?.done();
    this.live = undefined;
  }
}

/** A logger on stderr: JSON lines, or sentences on `terminal` when a person reads it. */
export function createLogger(options: { level?: string; terminal?: Terminal } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: undefined,
      redact: { paths: ['api_key', '*.api_key', 'config.api_key', 'headers.authorization', '*.headers.authorization'], censor: '[redacted]' },
    },
    options.terminal ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** A logger that writes nothing, for tests and quiet commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * pino logger in the two formats users ask for: json (one object per line, for log shippers) and
 * text (one readable line per event, for terminals and `docker logs`). The text format is a small
 * synchronous formatter over pino's own JSON, so both formats carry the same fields.
 */
import { Writable } from 'node:stream';
import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerConfig {
  logLevel: string;
  logFormat: 'text' | 'json';
}

/** Paths that must never reach a log line (request headers carrying credentials, config secrets). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'config.adminApiKey',
  'config.openaiApiKey',
  'config.judgeApiKey',
];

export function createLogger(config: LoggerConfig, destination: NodeJS.WritableStream = process.stdout): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    base: undefined,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (config.logFormat === 'json') return pino(options, destination as pino.DestinationStream);
  return pino(options, textStream(destination));
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'reqId', 'pid', 'hostname']);

/** Formats one pino JSON line as `time LEVEL [reqId] message key=value ...`. */
export function formatTextLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = (LEVEL_NAMES[entry.level as number] ?? String(entry.level)).padEnd(5);
  const reqId = entry.reqId ? ` [${String(entry.reqId)}]` : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (SKIP.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { type?: string; message?: string; stack?: string };
      fields.push(`err=${JSON.stringify(err.message ?? '')}${err.stack && entry.level as number >= 50 ? `\n${err.stack}` : ''}`);
      continue;
    }
    fields.push(`${key}=${typeof value === 'string' ? quoteIfNeeded(value) : JSON.stringify(value)}`);
  }
  return `${time} ${level}${reqId} ${String(entry.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}

function quoteIfNeeded(value: string): string {
  return /[\s="]/.test(value) || value === '' ? JSON.stringify(value) : value;
}

function textStream(destination: NodeJS.WritableStream): pino.DestinationStream {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString('utf8');
      let out = '';
      for (const line of text.split('\n')) if (line) out += formatTextLine(line);
      destination.write(out);
      callback();
    },
  });
  return stream as unknown as pino.DestinationStream;
}

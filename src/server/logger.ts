/**
 * pino logger in the two formats users ask for: json (one object per line, for log shippers) and
 * text (one readable line per event, for terminals and `docker logs`). The text format is a small
 * synchronous formatter over pino's own JSON, so both formats carry the same fields.
 *
 * Secrets never reach either format: known paths are censored by pino's `redact`, and every
 * finished line passes redact.ts (credential patterns, secret-named keys at any depth, control
 * characters) at every level, debug and trace included.
 */
import { Writable } from 'node:stream';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { redactLine } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerConfig {
  logLevel: string;
  logFormat: 'text' | 'json';
}

/**
 * Paths that must never reach a log line (request headers carrying credentials, config secrets),
 * censored before the line is built. Exact paths only: a wildcard path ('*.apiKey') makes pino's
 * redaction walk every logged object and more than doubled the cost of every line, the access log
 * included (7.6 against 3.3 µs). Secret-named keys at any depth (authorization, x-api-key, apiKey,
 * api_key, password, token...) are censored by redact.ts's pass over the finished line anyway; the
 * config keys below are listed because their names are not secret-looking enough for that pass.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'apiKey',
  'api_key',
  'password',
  'config.adminApiKey',
  'config.openaiApiKey',
  'config.judgeApiKey',
  'config.apiKeys',
];

export function createLogger(config: LoggerConfig, destination: NodeJS.WritableStream = process.stdout): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    base: undefined,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The last word on every line, whichever logger (child, plugin, fastify) wrote it.
    hooks: { streamWrite: redactLine },
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
  // A message is one line: an embedded newline would let logged text forge a line of its own.
  const msg = String(entry.msg ?? '').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return `${time} ${level}${reqId} ${msg}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
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

/** Characters of a rejected body kept in its debug line: enough to see what a client sent. */
const BODY_PREVIEW_CHARS = 2048;

/**
 * The debug line of a rejected request (4xx), with the start of the body the client sent, so an
 * operator can see what a misbehaving client sends. Built only when debug is on; secrets and
 * control characters in it are removed by the line redaction like everywhere else.
 */
export function logRejected(log: Pick<Logger, 'debug'>, error: unknown, status: number, body: unknown): void {
  // request.log is a pino child; fastify's type just does not say so.
  if ((log as Partial<Pick<Logger, 'isLevelEnabled'>>).isLevelEnabled?.('debug') === false) return;
  const fields: Record<string, unknown> = { err: error, status };
  const preview = bodyPreview(body);
  if (preview !== undefined) fields.body = preview;
  log.debug(fields, 'request rejected');
}

export function bodyPreview(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  let text: string;
  try {
    text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? `<${body.length} bytes>` : JSON.stringify(body);
  } catch {
    return '<unserialisable body>';
  }
  return text.length > BODY_PREVIEW_CHARS ? `${text.slice(0, BODY_PREVIEW_CHARS)}… (${text.length} characters)` : text;
}

/**
 * Secrets and control characters out of log lines, whatever logged them and at whatever level.
 *
 * pino's `redact` paths (logger.ts) cover the places we know (request headers, config keys). This
 * covers the places we cannot list: an upstream error message quoting a URL with user:pass@, a
 * client's body echoed in a debug line, a plugin logging its options. Every finished JSON line is
 * scanned; a line with nothing suspicious (the usual case) costs one regex test, a suspicious one
 * is parsed, cleaned value by value (so JSON escaping can never be broken) and re-serialised.
 */
import { stripControlChars } from '../core/validate.js';

export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear (any depth, any casing, - or _). */
const SECRET_KEY = /^(?:authorization|proxy[-_]?authorization|x[-_]?api[-_]?key|api[-_]?key|apikey|(?:access|refresh|id|auth|bearer)[-_]?token|token|secret|client[-_]?secret|password|passwd|pwd|cookie|set[-_]?cookie|private[-_]?key)$/i;

/**
 * A GGUF metadata key of the tokenizer namespace (tokenizer.ggml.eos_token_id, tokenizer.chat_template):
 * lower-case dotted names that llama.cpp quotes in its warnings next to the word "token".
 */
const GGUF_TOKENIZER_KEY = /^tokenizer\.[a-z0-9_]+(?:\.[a-z0-9_]+)*$/;

/** Text patterns of credentials, with what replaces them. */
const PATTERNS: Array<[RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  // OpenAI-style keys (sk-..., sk-proj-..., sk-ant-...).
  [/\bsk-[A-Za-z0-9_-]{6,}/g, REDACTED],
  // Authorization header values quoted in text. Only a credential-looking value (a digit or a
  // symbol in it) counts: "no first token within 60000 ms" is an English sentence, not a header.
  [/\b(Bearer|Basic|Token)(\s+)([A-Za-z0-9._~+/=-]{4,})/gi, (m, scheme: string, space: string, value: string) => (/[\d._~+/=-]/.test(value) ? `${scheme}${space}${REDACTED}` : m)],
  // key=value and "key": "value" spellings (query strings, form bodies, JSON quoted in messages).
  // A GGUF tokenizer metadata key as the value is a name, not a secret: llama.cpp's
  // "bad special token: 'tokenizer.ggml.eot_token_id' = 128009" stays readable.
  [
    /\b(api[-_]?key|apikey|access[-_]?token|refresh[-_]?token|auth[-_]?token|token|secret|client[-_]?secret|password|passwd|pwd)((?:\\?["'])?\s*[=:]\s*(?:\\?["'])?)([^\s&"'\\,;}]+)/gi,
    (m, key: string, separator: string, value: string) => (key.toLowerCase() === 'token' && GGUF_TOKENIZER_KEY.test(value) ? m : `${key}${separator}${REDACTED}`),
  ],
  // Credentials in URLs: scheme://user:pass@host (and scheme://token@host).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'\\]+@/gi, `$1${REDACTED}@`],
  // Long base64 / base64url runs (keys, tokens, JWT parts, image data): only when they mix
  // upper case, lower case and digits, so hex ids, UUIDs and words stay readable.
  [/[A-Za-z0-9+/_-]{40,}={0,2}/g, (m) => (/[A-Z]/.test(m) && /[a-z]/.test(m) && /\d/.test(m) ? REDACTED : m)],
];

/**
 * Cheap test on the raw JSON line: could it hold a secret or a control character? False
 * positives only cost a parse; a false negative would leak, so it is wide. The 40-character run is
 * only tried where a run starts (the lookbehind): the same lines match, but a line full of ids and
 * timestamps is scanned once instead of forty times (~1.3 µs a line instead of ~5).
 */
const SUSPECT =
  /sk-|bearer|basic\s|token|api[-_]?key|apikey|secret|passw|pwd|authorization|cookie|private[-_]?key|:\/\/[^\s/"]*@|(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40}|\\u00[01]|\\u007f|\\[bf]|[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/i;

/** One string with every credential pattern replaced and control characters stripped. */
export function redactText(text: string): string {
  let out = stripControlChars(text);
  for (const [pattern, replacement] of PATTERNS) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, replacement as string);
  }
  return out;
}

/** A parsed log entry with secrets replaced, at any depth, without recursion limits on hostile shapes. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  // Log entries are shallow; anything this deep is not worth keeping.
  if (depth > 32) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const cleanKey = redactText(key);
    out[cleanKey] = SECRET_KEY.test(key) && v !== null && v !== '' ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}

/** A finished pino JSON line (with or without its newline) made safe to write. */
export function redactLine(line: string): string {
  if (!SUSPECT.test(line)) return line;
  const newline = line.endsWith('\n');
  try {
    const entry = JSON.parse(newline ? line.slice(0, -1) : line) as unknown;
    return JSON.stringify(redactValue(entry)) + (newline ? '\n' : '');
  } catch {
    // Not JSON (a foreign line on the stream): clean it as text.
    return redactText(line);
  }
}

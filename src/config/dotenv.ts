/**
 * A strict .env parser. One variable per line, and a line never affects another one: a malformed
 * line stops start-up with its file and line number instead of being glued to the next line (as
 * node:util parseEnv does with a line that has no "=").
 *
 * Supported, as dotenv files usually contain:
 *   # comment                   full-line comments and blank lines
 *   NAME=value                  value trimmed; " #..." (a # after whitespace) starts a comment
 *   export NAME=value           the shell-compatible "export " prefix
 *   NAME="value" / 'value' / `value`   quoted values (in double quotes \n is a newline, \" a quote); a comment
 *                               may follow the closing quote
 *   CRLF line ends and a UTF-8 byte-order mark
 * Not supported: quoted values spanning several lines (an unclosed quote is an error).
 */
import { ConfigError } from './spec.js';

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/;

/** Parses .env text; `file` names the file in errors. Later duplicates win. */
export function parseDotenv(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((line, index) => {
    const where = `${file} line ${index + 1}`;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new ConfigError(where, 'expected NAME=value (or a # comment)');
    out[m[1]!] = parseValue(m[2]!, where);
  });
  return out;
}

function parseValue(rest: string, where: string): string {
  const value = rest.trim();
  const quote = value[0];
  if (quote === '"' || quote === "'" || quote === '`') {
    const end = closingQuote(value, quote);
    if (end < 0) throw new ConfigError(where, `unclosed ${quote} quote (values spanning several lines are not supported)`);
    const after = value.slice(end + 1).trim();
    if (after !== '' && !after.startsWith('#')) {
      throw new ConfigError(where, `unexpected text after the closing ${quote} quote (expected NAME=value or NAME="value")`);
    }
    const inner = value.slice(1, end);
    return quote === '"' ? inner.replace(/\\(["n])/g, (_, c: string) => (c === 'n' ? '\n' : c)) : inner;
  }
  if (value.startsWith('#')) return '';
  const comment = /\s#/.exec(value);
  return (comment ? value.slice(0, comment.index) : value).trim();
}

/** Index of the quote closing value[0]; in double quotes, \" does not close. -1 when unclosed. */
function closingQuote(value: string, quote: string): number {
  for (let i = 1; i < value.length; i++) {
    if (quote === '"' && value[i] === '\\') i++;
    else if (value[i] === quote) return i;
  }
  return -1;
}

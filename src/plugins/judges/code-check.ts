/**
 * Static checks of the code inside an answer: which blocks there are, in which language, and whether
 * each would get past its language's parser. Nothing is ever executed: JavaScript is only compiled by
 * node:vm (compiling does not run a single statement), other languages get structural checks.
 */
import { Script } from 'node:vm';

export interface CodeBlock {
  /** Normalised language ("javascript", "python", ...); "text" for output or prose. */
  lang: string;
  code: string;
  /** False for code found outside ``` fences. */
  fenced: boolean;
  /** The opening fence was never closed (the answer was cut inside the block). */
  unterminated: boolean;
}

/**
 * valid: passed the real check for its language (compiled, JSON.parse, Python structure, SQL shape).
 * plausible: only the generic bracket/quote balance check exists for the language, and it passed.
 * broken: failed its check.
 */
export type CodeVerdict = 'valid' | 'plausible' | 'broken';

export interface CodeCheck {
  lang: string;
  verdict: CodeVerdict;
  problem?: string;
}

const LANG_ALIASES: Record<string, string> = {
  js: 'javascript',
  javascript: 'javascript',
  node: 'javascript',
  nodejs: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  ts: 'typescript',
  typescript: 'typescript',
  jsx: 'jsx',
  tsx: 'tsx',
  py: 'python',
  python: 'python',
  python3: 'python',
  py3: 'python',
  json: 'json',
  sql: 'sql',
  postgresql: 'sql',
  postgres: 'sql',
  mysql: 'sql',
  sqlite: 'sql',
  plsql: 'sql',
  sh: 'shell',
  bash: 'shell',
  shell: 'shell',
  zsh: 'shell',
  console: 'shell',
  golang: 'go',
  'c++': 'cpp',
  cpp: 'cpp',
  cs: 'csharp',
  'c#': 'csharp',
  csharp: 'csharp',
  rs: 'rust',
  rb: 'ruby',
  kt: 'kotlin',
  yml: 'yaml',
  text: 'text',
  txt: 'text',
  plaintext: 'text',
  plain: 'text',
  output: 'text',
  markdown: 'text',
  md: 'text',
};

/** Blocks whose "code" is not meant to be parsed (program output, prose in a fence). */
const NOT_CODE = new Set(['text', 'yaml', 'toml', 'ini', 'csv', 'diff', 'log']);

export function normaliseLang(tag: string): string {
  const lower = tag.trim().toLowerCase();
  return LANG_ALIASES[lower] ?? lower;
}

export function isCheckable(block: CodeBlock): boolean {
  return !NOT_CODE.has(block.lang) && block.code.trim() !== '';
}

/**
 * Splits an answer into fenced code blocks and the prose around them. A fence left open at the end
 * becomes an unterminated block (the model was cut off inside its code).
 */
export function extractCodeBlocks(text: string): { blocks: CodeBlock[]; prose: string } {
  const blocks: CodeBlock[] = [];
  const prose: string[] = [];
  const lines = text.split('\n');
  let open: { fence: string; tag: string; body: string[] } | undefined;
  for (const line of lines) {
    if (open) {
      const close = /^[ \t]{0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
      if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
        blocks.push(makeBlock(open.tag, open.body.join('\n'), true, false));
        open = undefined;
      } else {
        open.body.push(line);
      }
      continue;
    }
    const start = /^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)/.exec(line);
    if (start) {
      open = { fence: start[1], tag: start[2] ?? '', body: [] };
      continue;
    }
    prose.push(line);
  }
  if (open) blocks.push(makeBlock(open.tag, open.body.join('\n'), true, true));
  return { blocks, prose: prose.join('\n') };
}

function makeBlock(tag: string, code: string, fenced: boolean, unterminated: boolean): CodeBlock {
  const lang = tag ? normaliseLang(tag.replace(/^\{?\.?/, '').replace(/[,}].*$/, '')) : sniffLanguage(code);
  return { lang, code, fenced, unterminated };
}

/** Lines that only appear in code: used to find code a model forgot to fence. */
const CODE_LINE =
  /^\s*(def \w+\(|class \w+[:(]|function\s*\w*\s*\(|(const|let|var) \w+\s*=|import [\w{*]|from \w[\w.]* import|return\b|if \(|for \(|while \(|print\(|console\.log\(|SELECT\b|}\s*$|.*[{;]\s*$)/;

/** Code that is not fenced: the longest run of code-looking lines (at least three). */
export function findUnfencedCode(prose: string): CodeBlock | undefined {
  const lines = prose.split('\n');
  let best: string[] = [];
  let run: string[] = [];
  for (const line of lines) {
    // Real code lines are short; a huge "line" is prose or garbage and would make the pattern slow.
    if (line.length <= 400 && (CODE_LINE.test(line) || (run.length > 0 && /^[ \t]{2,}\S/.test(line)))) {
      run.push(line);
    } else {
      if (run.length > best.length) best = run;
      run = [];
    }
  }
  if (run.length > best.length) best = run;
  if (best.length < 3) return undefined;
  const code = best.join('\n');
  return { lang: sniffLanguage(code), code, fenced: false, unterminated: false };
}

/** Guesses the language of an untagged block. */
export function sniffLanguage(code: string): string {
  // The first lines tell the language; bounding the input keeps the line patterns cheap on huge blocks.
  const trimmed = code.trim().slice(0, 4000);
  if (!trimmed) return 'text';
  if (/^[[{]/.test(trimmed)) {
    try {
      JSON.parse(trimmed);
      return 'json';
    } catch {
      // Not JSON; keep sniffing.
    }
  }
  if (/^[ \t]*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|VIEW)|WITH\s+\w+\s+AS)\b/im.test(trimmed)) return 'sql';
  if (/^[ \t]*(def |class \w+.*:[ \t]*$|from [\w.]+ import |import \w+[ \t]*$|elif |print\()/m.test(trimmed) && !/[;{][ \t]*$/m.test(trimmed)) return 'python';
  if (/\bfunction\b\s*\w*\s*\(|\b(const|let|var)\s+\w+|=>|console\.\w+\(|\brequire\(|^[ \t]*export\s|^[ \t]*import .* from /m.test(trimmed)) {
    return /\binterface\s+\w+|\btype\s+\w+\s*=|:\s*(string|number|boolean|void|unknown|any)\b|<T>/.test(trimmed) ? 'typescript' : 'javascript';
  }
  if (/^[ \t]*(def |class \w+)/m.test(trimmed)) return 'python';
  if (/^[ \t]*(\$ |npm |npx |pip |git |cd |ls |echo |sudo |apt(-get)? |brew |curl |mkdir |export \w+=)/m.test(trimmed)) return 'shell';
  if (/^[ \t]*(#include|int main\s*\(|public (static )?(class|void)|fn \w+|package \w+|func \w+)/m.test(trimmed)) return 'code';
  return 'text';
}

// ---------------------------------------------------------------------------------------------
// Checks

export async function checkCode(block: CodeBlock): Promise<CodeCheck> {
  const { lang, code } = block;
  if (block.unterminated) {
    // The closing fence never came: whatever parses, the answer's code was cut.
    const problem = lang === 'javascript' ? javascriptProblem(code) : balanceProblem(code, styleFor(lang));
    return { lang, verdict: 'broken', problem: problem ?? 'code block never closed' };
  }
  switch (lang) {
    case 'javascript':
      return verdict(lang, javascriptProblem(code), 'valid');
    case 'typescript':
    case 'jsx':
    case 'tsx':
      return checkTypeScript(lang, code);
    case 'python':
      return verdict(lang, pythonProblem(code), 'valid');
    case 'json':
      return verdict(lang, jsonProblem(code), 'valid');
    case 'sql':
      return verdict(lang, sqlProblem(code), 'valid');
    default:
      return verdict(lang, balanceProblem(code, styleFor(lang)), 'plausible');
  }
}

function verdict(lang: string, problem: string | undefined, ok: CodeVerdict): CodeCheck {
  return problem === undefined ? { lang, verdict: ok } : { lang, verdict: 'broken', problem };
}

/**
 * Compiles without running. Answers are snippets, not scripts, so a few shapes are tried: as is,
 * as a function body (top-level await/return), without ESM import/export (vm.Script is not a
 * module), and as an expression (a bare object literal).
 */
export function javascriptProblem(source: string): string | undefined {
  const code = source.replace(/^#!.*\n/, '');
  const variants = [code, `(async function () {\n${code}\n})`, `(async function () {\n${stripModuleSyntax(code)}\n})`, `(\n${code}\n)`];
  let first: string | undefined;
  for (const variant of variants) {
    try {
      new Script(variant, { filename: 'answer.js' });
      return undefined;
    } catch (error) {
      first ??= error instanceof Error ? error.message : String(error);
    }
  }
  return first;
}

function stripModuleSyntax(code: string): string {
  return code
    .replace(/^[ \t]*import\s[^;]*?\sfrom\s*['"][^'"]+['"]\s*;?/gm, '')
    .replace(/^[ \t]*import\s*['"][^'"]+['"]\s*;?/gm, '')
    .replace(/^[ \t]*export\s*(\*|\{[^}]*\})\s*(from\s*['"][^'"]+['"])?\s*;?/gm, '')
    .replace(/^([ \t]*)export\s+default\s+/gm, '$1const __default__ = ')
    .replace(/^([ \t]*)export\s+/gm, '$1');
}

interface TypeScriptLike {
  transpileModule(input: string, options: { reportDiagnostics?: boolean; fileName?: string; compilerOptions?: Record<string, unknown> }): {
    diagnostics?: Array<{ category: number; messageText: unknown }>;
  };
  JsxEmit: { Preserve: number };
  DiagnosticCategory: { Error: number };
}

let typescript: Promise<TypeScriptLike | undefined> | undefined;

/**
 * The TypeScript compiler is a development dependency: used for a real syntax check when it is
 * installed, otherwise TypeScript gets the structural check (and plain-JS-compatible TS still compiles
 * through vm). The specifier is a variable so a production build does not try to bundle it.
 */
function loadTypeScript(): Promise<TypeScriptLike | undefined> {
  const specifier = 'typescript';
  typescript ??= import(specifier).then(
    (module: { default?: TypeScriptLike } & Partial<TypeScriptLike>) => (module.default ?? (module as TypeScriptLike)) as TypeScriptLike,
    () => undefined,
  );
  return typescript;
}

async function checkTypeScript(lang: string, code: string): Promise<CodeCheck> {
  // Type-free TypeScript is JavaScript; the cheapest real check first.
  if (lang === 'typescript' && javascriptProblem(code) === undefined) return { lang, verdict: 'valid' };
  const ts = await loadTypeScript();
  if (ts) {
    const result = ts.transpileModule(code, {
      reportDiagnostics: true,
      fileName: lang === 'typescript' ? 'answer.ts' : 'answer.tsx',
      compilerOptions: { jsx: ts.JsxEmit.Preserve },
    });
    const error = result.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
    if (!error) return { lang, verdict: 'valid' };
    const text = typeof error.messageText === 'string' ? error.messageText : 'syntax error';
    return { lang, verdict: 'broken', problem: text };
  }
  return verdict(lang, balanceProblem(code, styleFor(lang)), 'plausible');
}

function jsonProblem(code: string): string | undefined {
  try {
    JSON.parse(code);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : 'invalid JSON';
  }
}

function sqlProblem(code: string): string | undefined {
  const balance = balanceProblem(code, styleFor('sql'));
  if (balance) return balance;
  const statements = code
    .replace(/--.*$/gm, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!statements.length) return 'no SQL statement';
  for (const statement of statements) {
    if (!/^(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE|MERGE|UPSERT|GRANT|REVOKE|BEGIN|COMMIT|ROLLBACK|EXPLAIN|PRAGMA|SET|SHOW|USE|VALUES|CALL|REPLACE)\b/i.test(statement)) {
      return `statement starts with "${statement.split(/\s+/)[0]}"`;
    }
    if (/\b(WHERE|AND|OR|FROM|SELECT|JOIN|ON|BY|SET|VALUES|INTO|HAVING|AS|NOT|IN|LIKE)\s*$|[,=<>(]\s*$/i.test(statement)) {
      return 'statement ends in the middle of a clause';
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Generic bracket and quote balance

interface LexStyle {
  lineComments: string[];
  blockComments: boolean;
  /** Quote characters that open strings. */
  quotes: string;
  /** An unterminated quote on a line is an error (SQL); elsewhere a lone quote is treated as text (Rust lifetimes, prose). */
  strictQuotes: boolean;
}

function styleFor(lang: string): LexStyle {
  switch (lang) {
    case 'sql':
      return { lineComments: ['--'], blockComments: true, quotes: `'"`, strictQuotes: true };
    case 'shell':
    case 'ruby':
    case 'perl':
    case 'r':
      return { lineComments: ['#'], blockComments: false, quotes: `'"`, strictQuotes: false };
    case 'html':
    case 'xml':
    case 'css':
      return { lineComments: [], blockComments: true, quotes: `'"`, strictQuotes: false };
    default:
      return { lineComments: ['//'], blockComments: true, quotes: `'"\``, strictQuotes: false };
  }
}

const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** First bracket or quote problem, or undefined when brackets balance. */
export function balanceProblem(code: string, style: LexStyle): string | undefined {
  const stack: Array<{ ch: string; line: number }> = [];
  let inBlockComment = false;
  let template = false;
  const lines = code.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (inBlockComment) {
        if (ch === '*' && line[i + 1] === '/') {
          inBlockComment = false;
          i++;
        }
        continue;
      }
      if (template) {
        if (ch === '\\') i++;
        else if (ch === '`') template = false;
        continue;
      }
      if (style.blockComments && ch === '/' && line[i + 1] === '*') {
        inBlockComment = true;
        i++;
        continue;
      }
      if (style.lineComments.some((c) => line.startsWith(c, i) && (c !== '#' || i === 0 || /\s/.test(line[i - 1])))) break;
      if (style.quotes.includes(ch)) {
        if (ch === '`') {
          template = true;
          continue;
        }
        const end = closingQuote(line, i + 1, ch);
        if (end < 0) {
          if (style.strictQuotes) return `unterminated string on line ${n + 1}`;
          continue;
        }
        i = end;
        continue;
      }
      if (ch === '(' || ch === '[' || ch === '{') stack.push({ ch, line: n + 1 });
      else if (ch in CLOSERS) {
        const top = stack.pop();
        if (!top) return `unexpected '${ch}' on line ${n + 1}`;
        if (top.ch !== CLOSERS[ch]) return `'${top.ch}' from line ${top.line} closed by '${ch}' on line ${n + 1}`;
      }
    }
  }
  if (template) return 'unterminated template string';
  if (inBlockComment) return 'unterminated comment';
  const open = stack.pop();
  return open ? `'${open.ch}' from line ${open.line} never closed` : undefined;
}

function closingQuote(line: string, from: number, quote: string): number {
  for (let i = from; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === quote) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Python structure

const PY_HEADER = /^(async\s+)?(def|class|if|elif|else|for|while|try|except|finally|with)\b/;
const PY_TRIPLE = /^[rRbBuUfF]{0,2}('''|""")/;

/**
 * A light structural check of Python: brackets and strings balance, block headers end with ':',
 * a ':' line is followed by a deeper block, dedents return to an earlier level, tabs and spaces are
 * not mixed, and no brace-language syntax slipped in. Not a parser, but it catches what broken model
 * output actually looks like.
 */
export function pythonProblem(source: string): string | undefined {
  let lines = source.split('\n');
  // REPL transcripts: keep the input lines, drop the printed output.
  if (lines.some((l) => l.startsWith('>>> '))) {
    lines = lines.filter((l) => /^(>>>|\.\.\.)( |$)/.test(l)).map((l) => l.slice(4));
  }
  const indentKinds = new Set<string>();
  const levels = [0];
  const brackets: Array<{ ch: string; line: number }> = [];
  let triple: string | undefined;
  let continued = false;
  let expectIndent = false;
  let logical = '';
  let colonAtTop = false;

  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    let i = 0;
    if (triple) {
      const end = line.indexOf(triple);
      if (end < 0) continue;
      i = end + 3;
      triple = undefined;
    } else if (brackets.length === 0 && !continued) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const indent = /^[ \t]*/.exec(line)![0];
      if (indent.includes(' ')) indentKinds.add('space');
      if (indent.includes('\t')) indentKinds.add('tab');
      if (indentKinds.size > 1) return `tabs and spaces mixed in indentation (line ${n + 1})`;
      const width = indent.length;
      const top = levels[levels.length - 1];
      if (expectIndent) {
        if (width <= top) return `expected an indented block after line ${n}`;
        levels.push(width);
      } else if (width > top) {
        return `unexpected indent on line ${n + 1}`;
      } else if (width < top) {
        while (levels.length > 1 && levels[levels.length - 1] > width) levels.pop();
        if (levels[levels.length - 1] !== width) return `unindent does not match any outer level (line ${n + 1})`;
      }
      expectIndent = false;
      logical = '';
      colonAtTop = false;
      const stripped = line.trim();
      if (/^[{}]/.test(stripped) || /^(function|const|let|var)\s/.test(stripped) || /^\}?\s*else\s+if\b/.test(stripped)) {
        return `not Python syntax on line ${n + 1}: ${JSON.stringify(stripped.slice(0, 40))}`;
      }
    }
    let lastSignificant = '';
    for (; i < line.length; i++) {
      const ch = line[i];
      if (ch === '#') break;
      if (ch === '"' || ch === "'") {
        const prefix = /[rRbBuUfF]{0,2}$/.exec(line.slice(0, i))?.[0] ?? '';
        const tripleMatch = PY_TRIPLE.exec(line.slice(i - prefix.length));
        if (tripleMatch && line.startsWith(tripleMatch[1], i)) {
          const end = line.indexOf(tripleMatch[1], i + 3);
          if (end < 0) {
            triple = tripleMatch[1];
            break;
          }
          i = end + 2;
          lastSignificant = ch;
          continue;
        }
        const end = closingQuote(line, i + 1, ch);
        if (end < 0) return `unterminated string on line ${n + 1}`;
        i = end;
        lastSignificant = ch;
        continue;
      }
      if (ch === '(' || ch === '[' || ch === '{') brackets.push({ ch, line: n + 1 });
      else if (ch in CLOSERS) {
        const top = brackets.pop();
        if (!top) return `unexpected '${ch}' on line ${n + 1}`;
        if (top.ch !== CLOSERS[ch]) return `'${top.ch}' from line ${top.line} closed by '${ch}' on line ${n + 1}`;
      } else if (ch === ':' && brackets.length === 0) colonAtTop = true;
      if (!/\s/.test(ch)) lastSignificant = ch;
    }
    logical += ` ${line.trim()}`;
    continued = !triple && /\\\s*$/.test(line);
    if (triple || brackets.length > 0 || continued) continue;
    // End of a logical line.
    const text = logical.trim();
    if (PY_HEADER.test(text) && !colonAtTop) return `missing ':' after "${text.slice(0, 40)}"`;
    if (lastSignificant === ':') expectIndent = true;
  }
  if (triple) return 'unterminated triple-quoted string';
  const open = brackets.pop();
  if (open) return `'${open.ch}' from line ${open.line} never closed`;
  if (expectIndent) return 'block header without a body at the end';
  return undefined;
}

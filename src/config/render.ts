/**
 * Renders ENV_DEFAULT and docs/configuration.md from the variables table, so neither can drift
 * from the code (`npm run config:docs` writes them; a test fails when they are stale).
 */
import type { VariableSpec } from './spec.js';
import { VARIABLES } from './variables.js';

const SPECS = Object.values(VARIABLES) as VariableSpec<unknown>[];

function groups(): Map<string, VariableSpec<unknown>[]> {
  const byGroup = new Map<string, VariableSpec<unknown>[]>();
  for (const spec of SPECS) byGroup.set(spec.group, [...(byGroup.get(spec.group) ?? []), spec]);
  return byGroup;
}

export function renderEnvDefault(): string {
  const lines = [
    '# SmarterRouter configuration: every variable with its default and meaning.',
    '# Copy to .env and change what you need; real environment variables win over .env.',
    '# Generated from src/config/variables.ts by `npm run config:docs`: do not edit by hand.',
    '',
  ];
  for (const [group, specs] of groups()) {
    lines.push(`# --- ${group} ---`);
    for (const spec of specs) {
      lines.push(`# ${spec.description}`);
      lines.push(`${spec.env}=${spec.defaultText}`);
    }
    lines.push('');
  }
  lines.push('# Per-backend API keys for ROUTER_BACKENDS entries: ROUTER_BACKEND_<NAME>_API_KEY');
  lines.push('# (NAME upper-cased, other characters as "_"), e.g. ROUTER_BACKEND_CLOUD_API_KEY=sk-...');
  lines.push('# and more plugin options as JSON: ROUTER_BACKEND_<NAME>_OPTIONS={"key": "value"}');
  lines.push('');
  return lines.join('\n');
}

export function renderConfigDocs(): string {
  const lines = [
    '# Configuration reference',
    '',
    'Generated from `src/config/variables.ts` by `npm run config:docs`; do not edit by hand.',
    'Every variable is read from the environment or from a `.env` file in the working directory',
    '(the environment wins). A bad value stops start-up with one line naming the variable and what is allowed.',
    'Numbers are plain decimals (`5`, `0.25`; integers where the variable is one): `0x10`, `1e3` or `Infinity` are refused.',
    'A `ROUTER_*` variable the router does not know (e.g. a misspelling) is ignored with a start-up warning',
    'naming the closest known variable.',
    '',
    '`.env` syntax: one `NAME=value` per line; blank lines and `# comments`; an optional `export ` prefix;',
    'values in `"double"`, `\'single\'` or `` `back` `` quotes (in double quotes `\\n` is a newline and `\\"` a quote);',
    'a `#` after whitespace starts a comment (`KEY=a#b` keeps `a#b`); CRLF line ends are fine. Quoted values',
    'cannot span lines. Any other line stops start-up with the file and line number (`.env line 3: expected NAME=value`).',
    '',
  ];
  for (const [group, specs] of groups()) {
    lines.push(`## ${group}`, '', '| Variable | Default | Meaning |', '|---|---|---|');
    for (const spec of specs) {
      const def = spec.defaultText === '' ? '(unset)' : `\`${spec.defaultText.replace(/\|/g, '\\|')}\``;
      lines.push(`| \`${spec.env}\` | ${def} | ${spec.description.replace(/\|/g, '\\|')} |`);
    }
    lines.push('');
  }
  lines.push(
    '## Per-backend API keys',
    '',
    'For each entry `name=kind:location` of `ROUTER_BACKENDS`, `ROUTER_BACKEND_<NAME>_API_KEY` holds its API key',
    '(NAME upper-cased, other characters replaced by `_`), so secrets never sit in the backend list.',
    '',
    '`ROUTER_BACKEND_<NAME>_OPTIONS` gives that backend\'s plugin more options, as a JSON object merged into',
    'what its `create()` receives (`name`, `location` and `apiKey` come from the settings above), e.g.',
    '`ROUTER_BACKEND_CLOUD_OPTIONS={"maxTokensField":"max_completion_tokens"}` for an Azure OpenAI deployment,',
    'or a third-party plugin\'s own settings.',
    '',
  );
  return lines.join('\n');
}

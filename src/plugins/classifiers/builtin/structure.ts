/**
 * Structural features: what a text looks like rather than which words it uses. Code has fences,
 * symbols, identifiers and stack traces; math has operators between numbers; creative asks pair an
 * imperative verb with a creative form. These signals hold for prompts whose vocabulary the
 * training corpus never saw. Every value is in 0..~1.2 so that no single feature swamps the rest.
 * All patterns are compiled once, here, at module load.
 */

export type StructuralFeatures = Record<string, number>;

const FENCE_RE = /```/;
const FENCE_LANG_RE = /```[ \t]*[A-Za-z][\w+#.-]*/;
const INLINE_CODE_RE = /`[^`\n]{1,120}`/g;
const CODE_LINE_RE =
  /^\s*(?:def |class \w|import |from [\w.]+ import|function\b|const |let |var |public |private |protected |static |return\b|if\s*\(|for\s*\(|while\s*\(|#include|#define|using namespace|select\s+[\w*]|insert into|update \w+ set|create table|fn |func |package \w|[}\]{]|<\/?[a-z][\w-]*[^>]*>|\$ |@\w+|[\w.[\]]+\s*(?:[+\-*/]?=|:=)\s*\S|\w+\([^)]*\)\s*[;{]?\s*$|- name:|\s+[\w-]+:\s+\S+$|[\w-]+:\s*$(?<!\b(?:code|this|here|below|follows|error|output|text|example|note|question|answer|following)\s*:\s*$))/i;
const CODE_LINE_END_RE = /[;{}]\s*$|\)\s*:\s*$|=>\s*\{?\s*$/;
const SYMBOLS_RE = /[{}[\]();=<>|&!$#\\]/g;
const STACK_RE =
  /Traceback \(most recent call last\)|^\s+at [\w$.<>]+ ?\(|File "[^"]+", line \d+|\b[A-Z]\w*(?:Error|Exception)\b|\berror(?:\[E\d+\]|:)|panicked at|Segmentation fault|core dumped|undefined reference|cannot find symbol|\bE[A-Z]{4,}\b|exit(?:ed with)? code \d+|npm ERR!|^fatal:|\bwarning: |errno|stack trace|uncaught|unhandled/im;
const FILE_RE =
  /\b[\w-]+\.(?:py|js|mjs|cjs|ts|tsx|jsx|java|go|rs|cpp|cc|hpp|rb|php|cs|kt|swift|ya?ml|json|toml|sql|sh|ps1|html|css|scss|vue|ini|conf|cfg|env|lock|gradle|xml|ipynb|tf|proto|dockerfile|csproj)\b|\bDockerfile\b|\bMakefile\b/i;
// `\w\(\)` rather than `\b\w+\(\)`: the same count, without rescanning every word of a long paste.
const IDENT_RE = /\b[a-z]+[A-Z][A-Za-z0-9]*\b|\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\w\(\)|\w\.\w+\(|::|->|=>|!==?|===?|&&|\|\|/g;
const SHELL_RE =
  /(?:^|\n)\s*(?:\$ ?|> )?(?:sudo|git|npm|npx|yarn|pnpm|pip3?|docker|kubectl|cd|ls|grep|curl|chmod|chown|ssh|brew|apt(?:-get)?|make|python3?|node|cargo|go (?:run|build|test)|java -jar|mvn|gradle|terraform|helm|systemctl|tar|find|awk|sed|ps|kill)\s+[-\w./$~"']/;
const URL_RE = /https?:\/\/\S+/;
const MATH_EXPR_RE =
  /\d\s*[-+*/^×÷=<>]\s*\(?\d|\b[a-z]\s*[\^²³]\s*\d?|[a-z]²|\b\d+[a-z]\b|√|∫|∑|∏|π|≤|≥|≠|≈|∞|\\frac|\\sum|\\int|\\sqrt|\b[a-z]\s*=\s*-?\d|\bf\s*\(\s*[a-z]\s*\)|\bP\s*\(|\bE\s*\[|\blog\s*\(|\bsin\s*\(|\bcos\s*\(|\bmod\b/g;
/** Numbers, but not years ("in 2018" is a fact question, not arithmetic). */
const NUMBER_RE = /(?<![\d.,])(?!(?:1[0-9]{3}|20[0-9]{2})s?\b(?![.,]\d))\d+(?:[.,]\d+)?/g;
const NUMBER_UNIT_RE =
  /[$€£¥]\s?\d|\d+(?:[.,]\d+)?\s*(?:%|percent|km|kg|g\b|m\b|cm|mm|mph|km\/h|m\/s|hours?|hrs?|h\b|minutes?|mins?|seconds?|s\b|days?|weeks?|months?|years?|dollars?|euros?|miles?|liters?|litres?|ml|people|persons?|students|workers|men|women|children|apples|balls|marbles|cards|coins|cookies|items|boxes|meters?|feet|ft|inches|pounds|lbs|degrees|°)/gi;
const QUESTION_END_RE = /\?\s*$/;
const WH_START_RE = /^\s*(?:what|who|whom|whose|when|where|why|how|which|is|are|was|were|can|could|does|do|did|should|would|will)\b/i;
const CREATIVE_ASK_RE =
  /\b(?:write|compose|create|craft|give me|generate|make|pen|draft|come up with|tell me|invent|dream up|brainstorm)\b(?:\s+[\w'-]+){0,5}?\s+(?:poems?|story|stories|haikus?|songs?|lyrics|limericks?|sonnets?|jokes?|tale|fable|raps?|screenplay|slogans?|taglines?|names?|scene|dialogue|monologue|ballad|ode|verses?|riddles?|puns?|fairy ?tale|bedtime|villanelle|mottos?|jingle|parody|fan ?fiction|backstory|legend|myth|prologue|plot)\b/i;
const CODE_ASK_RE =
  /\b(?:write|create|implement|build|generate|make|code|fix|debug|refactor|optimi[sz]e|convert|port|rewrite)\b(?:\s+[\w'.#+-]+){0,5}?\s+(?:function|script|class|program|method|query|regex|regexp|api|endpoint|component|cli|unit tests?|tests?|bot|app|module|dockerfile|makefile|library|package|server|parser|decorator|hook|schema|migration|pipeline|workflow|algorithm|code|snippet|struct|interface|macro|generator|game|simulator|tool|website|webpage|extension|plugin)\b/i;
const MATH_ASK_RE =
  /\b(?:solve|prove|calculate|compute|find|evaluate|simplify|derive|estimate|determine|figure out|work out)\b(?:\s+[\w'.-]+){0,5}?\s+(?:the |an? )?(?:value|probability|sum|integral|derivative|number|area|volume|limit|roots?|equation|x|y|n|answer|expected|average|speed|distance|time|cost|total|minimum|maximum|ratio|percentage|odds|chance|how)\b/i;
/** A program that produces creative text ("a python poem generator") is a coding task, not a poem. */
const CREATIVE_TOOL_RE =
  /\b(?:poem|poetry|story|haiku|joke|lyric|song|name|slogan|riddle|limerick|text|sentence|quote|insult|pun)s?\s+(?:generator|bot|app|program|script|api|website|site|game|tool|engine|builder|randomi[sz]er|maker)\b|\b(?:generates?|generating|prints?|outputs?|returns?|tweets?|posts?)\s+(?:an?\s+|random\s+|new\s+)*(?:poems?|stories|haikus?|jokes?|names?|lyrics|limericks?|quotes?)\b/i;
const ROLEPLAY_RE =
  /\b(?:you are (?:a|an|the|now)|you're (?:a|an|now)|pretend (?:to be|you(?:'re| are))|act (?:as|like) (?:a|an|my|the)|role-?play|stay in character|play the (?:role|part) of|let's play)\b/i;
const LIST_ITEM_RE = /^\s*(?:[-*•]|\d+[.)])\s+\S/gm;
const NON_ASCII_LETTER_RE = /[^\x00-\x7F]/g;
const QUOTED_BLOCK_RE = /^\s*>|"""|'''|<<<|^-{3,}\s*$/m;
const COLON_PASTE_RE = /:\s*\n\s*\S/;

function countMatches(re: RegExp, text: string, cap: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < cap && re.exec(text) !== null) n++;
  return n;
}

/** How many lines to inspect for code-likeness: enough to see a pasted file, bounded for speed. */
const MAX_LINES = 250;

export function structuralFeatures(text: string, prose: string, code: string): StructuralFeatures {
  const f: StructuralFeatures = {};
  if (!text) return f;
  if (FENCE_RE.test(text)) f.fence = 1;
  if (FENCE_LANG_RE.test(text)) f.fenceLang = 1;
  const inline = countMatches(INLINE_CODE_RE, prose, 6);
  if (inline) f.inlineCode = Math.min(1, inline / 3);

  // Code-looking lines anywhere (pasted code often comes without fences).
  const lines = text.split('\n', MAX_LINES);
  let codeLines = 0;
  let nonEmpty = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    nonEmpty++;
    if (CODE_LINE_RE.test(line) || CODE_LINE_END_RE.test(line)) codeLines++;
  }
  if (codeLines) {
    f.codeLines = Math.min(1, codeLines / 4);
    if (nonEmpty > 1) f.codeLineRatio = codeLines / nonEmpty;
  }
  const symbols = countMatches(SYMBOLS_RE, prose, 400);
  if (symbols) f.symbolDensity = Math.min(1, (symbols / Math.max(40, prose.length)) * 12);
  if (STACK_RE.test(text)) f.stackTrace = 1;
  if (FILE_RE.test(text)) f.fileName = 1;
  const idents = countMatches(IDENT_RE, prose, 6);
  if (idents) f.identifiers = Math.min(1, idents / 3);
  if (SHELL_RE.test(text)) f.shell = 1;
  if (URL_RE.test(text)) f.url = 1;
  if (code) f.codeSize = Math.min(1.2, Math.log1p(code.length / 80) / 3);

  const mathExpr = countMatches(MATH_EXPR_RE, prose, 4);
  if (mathExpr) f.mathExpr = Math.min(1, mathExpr / 2);
  const numbers = countMatches(NUMBER_RE, prose, 8);
  if (numbers) f.numbers = Math.min(1, numbers / 4);
  const units = countMatches(NUMBER_UNIT_RE, prose, 4);
  if (units) f.numberUnits = Math.min(1, units / 2);

  if (QUESTION_END_RE.test(prose)) f.questionEnd = 1;
  if (WH_START_RE.test(prose)) f.whStart = 1;
  if (CREATIVE_ASK_RE.test(prose)) f.creativeAsk = 1;
  if (CODE_ASK_RE.test(prose)) f.codeAsk = 1;
  if (MATH_ASK_RE.test(prose)) f.mathAsk = 1;
  if (ROLEPLAY_RE.test(prose)) f.roleplay = 1;
  if (CREATIVE_TOOL_RE.test(prose)) f.creativeTool = 1;
  const items = countMatches(LIST_ITEM_RE, prose, 10);
  if (items) f.listItems = Math.min(1, items / 5);
  if (QUOTED_BLOCK_RE.test(prose) || COLON_PASTE_RE.test(prose)) f.pasted = 1;

  const words = prose.split(/\s+/).filter(Boolean).length;
  f.length = Math.min(1.2, Math.log1p(words) / Math.log(400));
  if (words <= 4) f.short = 1;
  const nonAscii = countMatches(NON_ASCII_LETTER_RE, prose, 200);
  if (nonAscii) f.nonAscii = Math.min(1, (nonAscii / Math.max(20, prose.length)) * 4);
  return f;
}

// ---- the system prompt ------------------------------------------------------------------------

/** A character to play, as opposed to a job to do ("You are a senior Python developer"). */
const PERSONA_RE =
  /\b(?:stay(?:s|ing)? in character|never break character|(?:don't|do not|never) break (?:the )?character|in character|role-?play|you are playing|play the (?:role|part) of|talk(?:s)? like|speak(?:s)? like|answer(?:s)? (?:only )?(?:as|like)|respond(?:s)? (?:only )?(?:as|like)|in pirate speak|narrator|dungeon master|game master|storyteller|comedian|poet|novelist|songwriter|screenwriter|fictional|fantasy|adventure)\b/i;
/** "You are Yoda", "You are Captain Redbeard": a named character. */
const NAMED_PERSONA_RE = /\byou are (?:now )?(?!(?:a|an|the|my|our|your|ChatGPT|Claude|GPT|Gemini|Copilot|Assistant|AI|an AI)\b)[A-Z][\w'-]+/;
const TASK_ROLE_RE =
  /\b(?:assistant|engineer|developer|programmer|tutor|teacher|analyst|expert|consultant|advisor|adviser|agent|support|reviewer|translator|planner|doctor|nurse|lawyer|accountant|editor|coach)\b/i;

export function systemPromptFeatures(system: string): StructuralFeatures {
  const f: StructuralFeatures = {};
  const persona = PERSONA_RE.test(system) || ((NAMED_PERSONA_RE.test(system) || ROLEPLAY_RE.test(system)) && !TASK_ROLE_RE.test(system));
  if (persona) f.persona = 1;
  if (TASK_ROLE_RE.test(system)) f.taskRole = 1;
  if (CODE_ASK_RE.test(system) || FENCE_RE.test(system)) f.codeAsk = 1;
  if (MATH_ASK_RE.test(system)) f.mathAsk = 1;
  if (CREATIVE_ASK_RE.test(system)) f.creativeAsk = 1;
  return f;
}

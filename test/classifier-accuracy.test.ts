/**
 * Held-out accuracy evaluation for the built-in request classifier.
 *
 * The labelled set in test/fixtures/classification/labelled-prompts.json was written
 * independently of the classifier's rules. It is an EVALUATION set only: never use it to
 * train, fit, tune thresholds or pick keywords for the classifier (see the README next to it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const CATEGORIES = ['coding', 'reasoning', 'creativity', 'general'] as const;
const COMPLEXITIES = ['simple', 'medium', 'hard'] as const;
const ROLES = ['system', 'user', 'assistant'] as const;

type Category = (typeof CATEGORIES)[number];
type Complexity = (typeof COMPLEXITIES)[number];

interface LabelledMessage {
  role: (typeof ROLES)[number];
  content: string;
}

interface LabelledItem {
  id: string;
  category: Category;
  complexity: Complexity;
  messages: LabelledMessage[];
}

interface Prediction {
  category: string;
  complexity: string;
  complexityScore: number;
  confidence: number;
}

const MIN_PER_CATEGORY = 65;
const MIN_TOTAL = 260;
/**
 * The product target is 0.90 on this set, and the floor is now the target: the built-in classifier
 * measures 0.904 (272/301, 2026-11-28, after the real-traffic corpus round; see docs/classifier.md).
 * The margin is one item (271/301 passes), so a change that costs accuracy here fails this test: fix it with
 * better training data or general features checked on the dev sets, never by tuning on this set.
 */
const TARGET_CATEGORY_ACCURACY = 0.9;
const MIN_CATEGORY_ACCURACY = TARGET_CATEGORY_ACCURACY;

const fixturePath = fileURLToPath(new URL('./fixtures/classification/labelled-prompts.json', import.meta.url));
const items = JSON.parse(readFileSync(fixturePath, 'utf8')) as LabelledItem[];

const countBy = <K extends string>(keys: readonly K[], pick: (it: LabelledItem) => string): Record<K, number> => {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const it of items) {
    const k = pick(it) as K;
    if (k in out) out[k]++;
  }
  return out;
};

const isMultiTurn = (it: LabelledItem): boolean =>
  it.messages.filter((m) => m.role === 'user').length > 1 || it.messages.some((m) => m.role === 'assistant');

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '  n/a');

describe('labelled classification set: shape and balance', () => {
  it('is a non-empty array of well-formed items', () => {
    expect(Array.isArray(items)).toBe(true);
    for (const it of items) {
      const where = `item ${JSON.stringify(it?.id)}`;
      expect(typeof it.id, where).toBe('string');
      expect(it.id.length, where).toBeGreaterThan(0);
      expect(CATEGORIES, where).toContain(it.category);
      expect(COMPLEXITIES, where).toContain(it.complexity);
      expect(Array.isArray(it.messages), where).toBe(true);
      expect(it.messages.length, where).toBeGreaterThan(0);
      for (const m of it.messages) {
        expect(ROLES, where).toContain(m.role);
        expect(typeof m.content, where).toBe('string');
        expect(m.content.trim().length, where).toBeGreaterThan(0);
      }
      // The request being classified is always the last user turn.
      expect(it.messages[it.messages.length - 1].role, where).toBe('user');
      expect(Object.keys(it).sort(), where).toEqual(['category', 'complexity', 'id', 'messages']);
    }
  });

  it('has unique ids', () => {
    const ids = items.map((it) => it.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(dupes).toEqual([]);
  });

  it(`has >= ${MIN_TOTAL} items and >= ${MIN_PER_CATEGORY} per category`, () => {
    expect(items.length).toBeGreaterThanOrEqual(MIN_TOTAL);
    const perCat = countBy(CATEGORIES, (it) => it.category);
    for (const c of CATEGORIES) expect(perCat[c], c).toBeGreaterThanOrEqual(MIN_PER_CATEGORY);
  });

  it('spreads complexity roughly evenly within each category', () => {
    for (const c of CATEGORIES) {
      const inCat = items.filter((it) => it.category === c);
      for (const x of COMPLEXITIES) {
        const share = inCat.filter((it) => it.complexity === x).length / inCat.length;
        expect(share, `${c}/${x}`).toBeGreaterThanOrEqual(0.25);
      }
    }
  });

  it('contains the required variety (multi-turn, system prompts, code blocks/logs)', () => {
    expect(items.filter(isMultiTurn).length).toBeGreaterThanOrEqual(30);
    expect(items.filter((it) => it.messages.some((m) => m.role === 'system')).length).toBeGreaterThanOrEqual(15);
    const withFence = items.filter((it) => it.messages.some((m) => m.content.includes('```')));
    expect(withFence.length).toBeGreaterThanOrEqual(25);
    // Code blocks must not be a proxy for "coding".
    expect(withFence.filter((it) => it.category !== 'coding').length).toBeGreaterThanOrEqual(5);
  });
});

describe('built-in classifier: held-out accuracy', () => {
  let predictions: { item: LabelledItem; pred: Prediction }[] = [];

  beforeAll(async () => {
    // Imported lazily so the fixture checks above still run while the classifier is absent.
    const mod = await import('../src/plugins/classifiers/builtin/index.js');
    const classify = mod.classify as (input: {
      messages: { role: 'system' | 'user' | 'assistant' | 'tool'; content: string }[];
    }) => Prediction;
    predictions = items.map((item) => ({
      item,
      pred: classify({ messages: item.messages.map((m) => ({ role: m.role, content: m.content })) }),
    }));
    report(predictions);
  });

  it('returns a well-formed prediction for every item', () => {
    expect(predictions.length).toBe(items.length);
    for (const { item, pred } of predictions) {
      expect(CATEGORIES, item.id).toContain(pred.category);
      expect(COMPLEXITIES, item.id).toContain(pred.complexity);
      expect(Number.isFinite(pred.complexityScore), item.id).toBe(true);
      expect(Number.isFinite(pred.confidence), item.id).toBe(true);
    }
  });

  it(`category accuracy >= ${MIN_CATEGORY_ACCURACY} (the product target ${TARGET_CATEGORY_ACCURACY})`, () => {
    const correct = predictions.filter(({ item, pred }) => item.category === pred.category).length;
    console.log(`category accuracy ${(correct / predictions.length).toFixed(3)} (target ${TARGET_CATEGORY_ACCURACY})`);
    expect(correct / predictions.length).toBeGreaterThanOrEqual(MIN_CATEGORY_ACCURACY);
  });

  it('complexityScore is ordered on average: hard > medium > simple', () => {
    const mean = meanScores(predictions);
    expect(mean.hard).toBeGreaterThan(mean.medium);
    expect(mean.medium).toBeGreaterThan(mean.simple);
  });
});

function meanScores(preds: { item: LabelledItem; pred: Prediction }[]): Record<Complexity, number> {
  const out = {} as Record<Complexity, number>;
  for (const x of COMPLEXITIES) {
    const scores = preds.filter((p) => p.item.complexity === x).map((p) => p.pred.complexityScore);
    out[x] = scores.reduce((a, b) => a + b, 0) / scores.length;
  }
  return out;
}

function matrix<L extends string>(
  labels: readonly L[],
  preds: { item: LabelledItem; pred: Prediction }[],
  truth: (it: LabelledItem) => L,
  guess: (p: Prediction) => string,
): string[] {
  const cols = [...labels, 'other'];
  const w = Math.max(...cols.map((c) => c.length), 8) + 1;
  const lines = [`${'expected \\ predicted'.padEnd(22)}${cols.map((c) => pad(c, w)).join('')}${pad('n', 6)}`];
  for (const row of labels) {
    const inRow = preds.filter((p) => truth(p.item) === row);
    const cells = cols.map((col) =>
      inRow.filter((p) => {
        const g = guess(p.pred);
        return col === 'other' ? !(labels as readonly string[]).includes(g) : g === col;
      }).length,
    );
    lines.push(`${row.padEnd(22)}${cells.map((n) => pad(n, w)).join('')}${pad(inRow.length, 6)}`);
  }
  return lines;
}

function report(preds: { item: LabelledItem; pred: Prediction }[]): void {
  const lines: string[] = [];
  const n = preds.length;
  const catCorrect = preds.filter((p) => p.item.category === p.pred.category).length;
  lines.push(`\n=== Classifier evaluation on ${n} held-out items ===`);
  lines.push(`Category accuracy: ${catCorrect}/${n} = ${pct(catCorrect / n)}`);
  lines.push('', 'Category confusion matrix:');
  lines.push(...matrix(CATEGORIES, preds, (it) => it.category, (p) => p.category));

  lines.push('', `${'category'.padEnd(12)}${pad('precision', 10)}${pad('recall', 10)}${pad('f1', 10)}`);
  for (const c of CATEGORIES) {
    const tp = preds.filter((p) => p.item.category === c && p.pred.category === c).length;
    const predicted = preds.filter((p) => p.pred.category === c).length;
    const actual = preds.filter((p) => p.item.category === c).length;
    const precision = predicted ? tp / predicted : NaN;
    const recall = actual ? tp / actual : NaN;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : NaN;
    lines.push(`${c.padEnd(12)}${pad(pct(precision), 10)}${pad(pct(recall), 10)}${pad(pct(f1), 10)}`);
  }

  const byGroup = (label: string, subset: typeof preds): string => {
    const ok = subset.filter((p) => p.item.category === p.pred.category).length;
    return `  ${label.padEnd(22)} ${pad(ok, 4)}/${pad(subset.length, 4)} = ${pct(ok / subset.length)}`;
  };
  lines.push('', 'Category accuracy by slice:');
  lines.push(byGroup('single-turn', preds.filter((p) => !isMultiTurn(p.item))));
  lines.push(byGroup('multi-turn', preds.filter((p) => isMultiTurn(p.item))));
  lines.push(byGroup('with system prompt', preds.filter((p) => p.item.messages.some((m) => m.role === 'system'))));
  lines.push(byGroup('with ``` block', preds.filter((p) => p.item.messages.some((m) => m.content.includes('```')))));

  const cxCorrect = preds.filter((p) => p.item.complexity === p.pred.complexity).length;
  lines.push('', `Complexity accuracy: ${cxCorrect}/${n} = ${pct(cxCorrect / n)}`);
  for (const c of CATEGORIES) {
    const inCat = preds.filter((p) => p.item.category === c);
    const ok = inCat.filter((p) => p.item.complexity === p.pred.complexity).length;
    lines.push(`  ${c.padEnd(12)} ${pad(ok, 4)}/${pad(inCat.length, 4)} = ${pct(ok / inCat.length)}`);
  }
  lines.push('', 'Complexity confusion matrix:');
  lines.push(...matrix(COMPLEXITIES, preds, (it) => it.complexity, (p) => p.complexity));
  const mean = meanScores(preds);
  lines.push('', `Mean complexityScore: simple=${mean.simple.toFixed(3)} medium=${mean.medium.toFixed(3)} hard=${mean.hard.toFixed(3)}`);
  const meanConf = preds.reduce((a, p) => a + p.pred.confidence, 0) / n;
  lines.push(`Mean confidence: ${meanConf.toFixed(3)}`);
  console.log(lines.join('\n'));
}

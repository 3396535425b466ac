/**
 * The labelled exemplars of the embedding classifier: the built-in classifier's own training corpus
 * (training/dataset.ts), never its held-out split, shaped by embeddingText() exactly as requests are.
 *
 * The corpus modules are imported on first use only, so a router without the embedding classifier
 * never loads them. The hash covers every exemplar text and label plus the text shape, so a corpus
 * edit (or a change of embeddingText) makes the stored vectors stale.
 */
import { createHash } from 'node:crypto';
import { CATEGORIES, type Category } from '../../../plugin-api/index.js';
import { embeddingText, TEXT_VERSION } from './text.js';

export interface Exemplar {
  text: string;
  /** Index into CATEGORIES. */
  label: number;
}

export interface ExemplarSet {
  exemplars: Exemplar[];
  /** sha256 of the texts, labels and text shape. */
  hash: string;
}

/**
 * Which training examples become exemplars. Hand-written and traffic prompts and the hand-written
 * whole conversations are real asks; the short category-specific follow-ups anchor "now add tests".
 * Template-generated prompts add shapes the hand-written ones lack (reports to summarise, number-
 * bearing facts). Randomly assembled conversations (follow-ups glued to unrelated asks) and the
 * assistant-reply snippets are left out: as single points in a nearest-neighbour vote they add noise.
 */
const TRAIN_SOURCES = new Set(['hand', 'traffic', 'template', 'follow-up']);
const CONVERSATION_SOURCES = new Set(['traffic-conversation', 'system-domain', 'system-persona']);

let cached: Promise<ExemplarSet> | undefined;

/** The exemplar set, built once per process (about 100 ms). */
export function loadExemplars(): Promise<ExemplarSet> {
  cached ??= buildExemplars();
  return cached;
}

async function buildExemplars(): Promise<ExemplarSet> {
  const { buildDatasets } = await import('../builtin/training/dataset.js');
  const datasets = buildDatasets();
  const seen = new Set<string>();
  const exemplars: Exemplar[] = [];
  const add = (input: Parameters<typeof embeddingText>[0], category: Category): void => {
    const text = embeddingText(input);
    // The same text twice (a template repeating a hand-written ask) would only count double.
    if (!text || seen.has(text)) return;
    seen.add(text);
    exemplars.push({ text, label: CATEGORIES.indexOf(category) });
  };
  for (const example of datasets.train) if (TRAIN_SOURCES.has(example.source)) add(example.input, example.category);
  for (const example of datasets.conversations) if (CONVERSATION_SOURCES.has(example.source)) add(example.input, example.category);
  return { exemplars, hash: hashExemplars(exemplars) };
}

export function hashExemplars(exemplars: readonly Exemplar[]): string {
  const hash = createHash('sha256');
  hash.update(`text-v${TEXT_VERSION}\n${CATEGORIES.join(',')}\n`);
  for (const e of exemplars) hash.update(`${e.label}\t${e.text}\u0000`);
  return hash.digest('hex');
}

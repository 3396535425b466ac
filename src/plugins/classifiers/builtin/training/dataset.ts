/**
 * Assembles the labelled training and held-out sets from the corpus.
 *
 * The held-out set is a fixed 20% of the hand-written prompts (chosen by a hash of the text, so it
 * does not change when prompts are added elsewhere). Nothing derived from a held-out prompt (no
 * multi-turn or system-prompt variant) enters training. Template-generated prompts are training-only.
 */
import { CATEGORIES, type Category, type ChatMessage, type ClassificationInput } from '../../../../plugin-api/index.js';
import { CODING } from './corpus/coding.js';
import { REASONING } from './corpus/reasoning.js';
import { CREATIVITY } from './corpus/creativity.js';
import { GENERAL } from './corpus/general.js';
import { GENERATORS } from './corpus/templates.js';
import { BOUNDARY } from './corpus/boundary.js';
import { GENERALIZATION } from './corpus/generalization.js';
import { TRAFFIC_CODING } from './corpus/traffic-coding.js';
import { TRAFFIC_REASONING } from './corpus/traffic-reasoning.js';
import { TRAFFIC_CREATIVITY } from './corpus/traffic-creativity.js';
import { TRAFFIC_GENERAL } from './corpus/traffic-general.js';
import { TRAFFIC_MULTI_TURN, TRAFFIC_SYSTEM_PROMPTED } from './corpus/traffic-conversations.js';
import { TRAFFIC_BORDERS, TRAFFIC_BORDERS_MULTI_TURN, TRAFFIC_BORDERS_SYSTEM_PROMPTED } from './corpus/traffic-borders.js';
import { TRAFFIC_ROUND5, TRAFFIC_ROUND5_MULTI_TURN, TRAFFIC_ROUND5_SYSTEM_PROMPTED } from './corpus/traffic-round5.js';
import { TRAFFIC_ROUND6, TRAFFIC_ROUND6_MULTI_TURN, TRAFFIC_ROUND6_SYSTEM_PROMPTED } from './corpus/traffic-round6.js';
import { TRAFFIC_ROUND7, TRAFFIC_ROUND7_MULTI_TURN, TRAFFIC_ROUND7_SYSTEM_PROMPTED } from './corpus/traffic-round7.js';
import { TRAFFIC_ROUND8, TRAFFIC_ROUND8_MULTI_TURN, TRAFFIC_ROUND8_SYSTEM_PROMPTED } from './corpus/traffic-round8.js';
import {
  AMBIGUOUS_TURNS,
  ASSISTANT_REPLIES,
  DOMAIN_SYSTEM_PROMPTS,
  FOLLOW_UPS,
  GENERIC_FOLLOW_UPS,
  IN_CHARACTER_TURNS,
  NEUTRAL_SYSTEM_PROMPTS,
  PERSONA_SYSTEM_PROMPTS,
  SERVICE_SYSTEM_PROMPTS,
} from './corpus/conversations.js';
import { rng } from './logistic.js';

export interface LabelledExample {
  input: ClassificationInput;
  category: Category;
  weight: number;
  /** Where it came from, for per-source accuracy. */
  source: string;
}

export const HAND_WRITTEN: Record<Category, readonly string[]> = {
  coding: [...CODING, ...BOUNDARY.coding, ...GENERALIZATION.coding],
  reasoning: [...REASONING, ...BOUNDARY.reasoning, ...GENERALIZATION.reasoning],
  creativity: [...CREATIVITY, ...BOUNDARY.creativity, ...GENERALIZATION.creativity],
  general: [...GENERAL, ...BOUNDARY.general, ...GENERALIZATION.general],
};

/**
 * The real-traffic corpus (corpus/traffic-*.ts, including the later rounds in traffic-borders.ts, traffic-round5.ts, traffic-round6.ts, traffic-round7.ts and traffic-round8.ts). All of it trains: its held-out check is the separate
 * dev-set-traffic.ts, written before it. Keeping it out of the hash split also keeps the held-out
 * numbers of the older corpus comparable from one round to the next.
 */
export const TRAFFIC: Record<Category, readonly string[]> = {
  coding: [...TRAFFIC_CODING, ...TRAFFIC_BORDERS.coding, ...TRAFFIC_ROUND5.coding, ...TRAFFIC_ROUND6.coding, ...TRAFFIC_ROUND7.coding, ...TRAFFIC_ROUND8.coding],
  reasoning: [...TRAFFIC_REASONING, ...TRAFFIC_BORDERS.reasoning, ...TRAFFIC_ROUND5.reasoning, ...TRAFFIC_ROUND6.reasoning, ...TRAFFIC_ROUND7.reasoning, ...TRAFFIC_ROUND8.reasoning],
  creativity: [...TRAFFIC_CREATIVITY, ...TRAFFIC_BORDERS.creativity, ...TRAFFIC_ROUND5.creativity, ...TRAFFIC_ROUND6.creativity, ...TRAFFIC_ROUND7.creativity, ...TRAFFIC_ROUND8.creativity],
  general: [...TRAFFIC_GENERAL, ...TRAFFIC_BORDERS.general, ...TRAFFIC_ROUND5.general, ...TRAFFIC_ROUND6.general, ...TRAFFIC_ROUND7.general, ...TRAFFIC_ROUND8.general],
};

/** FNV-1a, for a split that depends only on the prompt text. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const HELD_OUT_FRACTION = 0.2;
export function isHeldOut(text: string): boolean {
  return hash(text) % 1000 < HELD_OUT_FRACTION * 1000;
}

const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
const system = (content: string): ChatMessage => ({ role: 'system', content });

/**
 * Template prompts per category. General and creativity get more: their generators cover the most
 * varied shapes (reports and logs to summarise, number-bearing facts and emails, poems about code).
 */
const TEMPLATES_PER_CATEGORY: Record<Category, number> = { coding: 260, reasoning: 260, creativity: 320, general: 420 };

export interface Datasets {
  /** Single texts that train the linear model. */
  train: LabelledExample[];
  /** Conversations (follow-ups, topic switches, system prompts) that fit the mixing parameters. */
  conversations: LabelledExample[];
  /**
   * The single-turn conversations with a system prompt (a subset of `conversations`): they also train
   * the linear model, whose last-turn vector carries features of the system prompt (features.ts).
   */
  systemTrain: LabelledExample[];
  heldOut: LabelledExample[];
  heldOutMultiTurn: LabelledExample[];
}

export function buildDatasets(seed = 7): Datasets {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const train: LabelledExample[] = [];
  const conversations: LabelledExample[] = [];
  const heldOut: LabelledExample[] = [];
  const trainItems: Record<Category, string[]> = { coding: [], reasoning: [], creativity: [], general: [] };
  const heldItems: Record<Category, string[]> = { coding: [], reasoning: [], creativity: [], general: [] };

  for (const category of CATEGORIES) {
    for (const text of HAND_WRITTEN[category]) {
      if (isHeldOut(text)) {
        heldItems[category].push(text);
        heldOut.push({ input: { messages: [user(text)] }, category, weight: 1, source: 'hand' });
      } else {
        trainItems[category].push(text);
        train.push({ input: { messages: [user(text)] }, category, weight: 1, source: 'hand' });
        // The same ask behind a neutral system prompt: such prompts must not move the category.
        if (random() < 0.35) {
          conversations.push({ input: { messages: [system(pick(NEUTRAL_SYSTEM_PROMPTS)), user(text)] }, category, weight: 0.5, source: 'hand+system' });
        }
      }
    }
  }

  for (const category of CATEGORIES) {
    for (const text of TRAFFIC[category]) {
      trainItems[category].push(text);
      train.push({ input: { messages: [user(text)] }, category, weight: 1, source: 'traffic' });
    }
  }

  for (const category of CATEGORIES) {
    const seen = new Set<string>();
    for (let i = 0; i < 4 * TEMPLATES_PER_CATEGORY[category] && seen.size < TEMPLATES_PER_CATEGORY[category]; i++) {
      const text = GENERATORS[category](pick);
      if (seen.has(text)) continue;
      seen.add(text);
      train.push({ input: { messages: [user(text)] }, category, weight: 0.4, source: 'template' });
    }
  }

  conversations.push(...multiTurn(trainItems, pick, 'multi'));
  for (const category of CATEGORIES) {
    // Follow-ups specific to a category ("make it rhyme", "add tests") say something on their own.
    for (const text of FOLLOW_UPS[category]) train.push({ input: { messages: [user(text)] }, category, weight: 0.5, source: 'follow-up' });
    // What answers of each kind look like, for scoring the assistant turns of a context.
    for (const text of ASSISTANT_REPLIES[category]) train.push({ input: { messages: [user(text)] }, category, weight: 0.3, source: 'reply' });
  }
  const heldOutMultiTurn = multiTurn(heldItems, pick, 'held-multi');

  for (const category of CATEGORIES) {
    // A domain system prompt decides an ambiguous turn...
    for (let i = 0; i < 40; i++) {
      conversations.push({
        input: { messages: [system(pick(DOMAIN_SYSTEM_PROMPTS[category])), user(pick(AMBIGUOUS_TURNS))] },
        category,
        weight: 0.6,
        source: 'system-domain',
      });
    }
    // ...but not a clear ask of another kind.
    for (let i = 0; i < 25; i++) {
      const other = pick(CATEGORIES.filter((c) => c !== category));
      conversations.push({
        input: { messages: [system(pick(DOMAIN_SYSTEM_PROMPTS[other])), user(pick(trainItems[category]))] },
        category,
        weight: 0.5,
        source: 'system-other',
      });
    }
  }
  // A persona system prompt makes an in-character turn role-play, even one that looks like a question...
  for (let i = 0; i < 60; i++) {
    conversations.push({
      input: { messages: [system(pick(PERSONA_SYSTEM_PROMPTS)), user(pick(IN_CHARACTER_TURNS))] },
      category: 'creativity',
      weight: 0.6,
      source: 'system-persona',
    });
  }
  // ...but a clear task still is that task.
  const codeAsks = trainItems.coding.filter((t) => /\b(?:write|implement|fix|debug|refactor)\b/i.test(t));
  for (let i = 0; i < 20 && codeAsks.length > 0; i++) {
    conversations.push({
      input: { messages: [system(pick(PERSONA_SYSTEM_PROMPTS)), user(pick(codeAsks))] },
      category: 'coding',
      weight: 0.5,
      source: 'system-persona-task',
    });
  }
  // Service and "think step by step" system prompts: the ask decides (plain questions stay general).
  for (const category of CATEGORIES) {
    for (let i = 0; i < (category === 'general' ? 60 : 20); i++) {
      conversations.push({
        input: { messages: [system(pick(SERVICE_SYSTEM_PROMPTS)), user(pick(trainItems[category]))] },
        category,
        weight: 0.5,
        source: 'system-service',
      });
    }
  }
  // Whole hand-written conversations: the system-prompted ones also train the linear model (below).
  for (const { category, messages } of [
    ...TRAFFIC_MULTI_TURN,
    ...TRAFFIC_SYSTEM_PROMPTED,
    ...TRAFFIC_BORDERS_MULTI_TURN,
    ...TRAFFIC_BORDERS_SYSTEM_PROMPTED,
    ...TRAFFIC_ROUND5_MULTI_TURN,
    ...TRAFFIC_ROUND5_SYSTEM_PROMPTED,
    ...TRAFFIC_ROUND6_MULTI_TURN,
    ...TRAFFIC_ROUND6_SYSTEM_PROMPTED,
    ...TRAFFIC_ROUND7_MULTI_TURN,
    ...TRAFFIC_ROUND7_SYSTEM_PROMPTED,
    ...TRAFFIC_ROUND8_MULTI_TURN,
    ...TRAFFIC_ROUND8_SYSTEM_PROMPTED,
  ]) {
    conversations.push({ input: { messages }, category, weight: 1, source: 'traffic-conversation' });
  }
  const systemTrain = conversations.filter(
    (ex) => ex.input.messages.length === 2 && ex.input.messages[0].role === 'system' && ex.input.messages[1].role === 'user',
  );
  return { train, conversations, systemTrain, heldOut, heldOutMultiTurn };
}

/** Follow-up conversations (label = the conversation's) and topic switches (label = the new ask). */
function multiTurn(items: Record<Category, string[]>, pick: <T>(xs: readonly T[]) => T, source: string): LabelledExample[] {
  const out: LabelledExample[] = [];
  for (const category of CATEGORIES) {
    if (items[category].length === 0) continue;
    const n = Math.max(8, Math.round(items[category].length * 0.6));
    for (let i = 0; i < n; i++) {
      const followUp = i % 3 === 0 ? pick(GENERIC_FOLLOW_UPS) : pick(FOLLOW_UPS[category]);
      const messages: ChatMessage[] = [];
      if (i % 4 === 0) messages.push(system(pick(NEUTRAL_SYSTEM_PROMPTS)));
      messages.push(user(pick(items[category])), assistant(pick(ASSISTANT_REPLIES[category])), user(followUp));
      out.push({ input: { messages }, category, weight: 0.8, source: `${source}:follow-up` });
    }
    // A new ask only overrides the context when it stands on its own (not "thank you!").
    const standalone = items[category].filter((t) => t.split(/\s+/).length >= 5);
    for (let i = 0; i < Math.round(n / 2) && standalone.length > 0; i++) {
      const from = pick(CATEGORIES.filter((c) => c !== category && items[c].length > 0));
      const messages: ChatMessage[] = [
        user(pick(items[from])),
        assistant(pick(ASSISTANT_REPLIES[from])),
        user(pick(standalone)),
      ];
      out.push({ input: { messages }, category, weight: 0.8, source: `${source}:switch` });
    }
  }
  return out;
}

import { describe, expect, it } from 'vitest';
import { modelHints, parseParameterCountB, priorCapability } from '../src/core/model-priors.js';
import {
  DEFAULT_WEIGHTS,
  FEEDBACK_WEIGHT,
  MIN_SIZE_B,
  VRAM_LOADED_BONUS,
  VRAM_NO_FIT_PENALTY,
  effectiveWeights,
  scoreCandidates,
  sizePenalty,
  type RoutableModel,
  type ScoringInput,
} from '../src/core/scoring.js';
import { CATEGORIES, COMPLEXITIES, type ModelCapabilities } from '../src/plugin-api/index.js';

const caps = (over: Partial<ModelCapabilities> = {}): ModelCapabilities => ({
  chat: true,
  vision: false,
  tools: true,
  embeddings: false,
  ...over,
});

function model(key: string, over: Partial<RoutableModel> = {}): RoutableModel {
  return { key, backend: 'gpu', modelId: key, capabilities: caps(), available: true, ...over };
}

/** The fleet from the brief, with no profiles or benchmarks at all: routing runs on priors alone. */
const fleet = (): RoutableModel[] => [
  model('qwen2.5-coder:32b', { family: 'qwen2', parameterCountB: 32.8, contextLength: 32768 }),
  model('llama3.2:3b', { family: 'llama', parameterCountB: 3.2, contextLength: 131072 }),
  model('llama3.1:8b', { family: 'llama', parameterCountB: 8, contextLength: 131072 }),
  model('llava:13b', { family: 'llama', parameterCountB: 13, contextLength: 4096, capabilities: caps({ vision: true, tools: false }) }),
  model('nomic-embed-text', { family: 'nomic-bert', parameterCountB: 0.137, capabilities: caps({ chat: false, embeddings: true, tools: false }) }),
];

const noNeeds = { vision: false, tools: false, json: false };

function input(over: Partial<ScoringInput> = {}): ScoringInput {
  return {
    models: fleet(),
    category: 'general',
    complexity: 'medium',
    complexityScore: 0.5,
    needs: noNeeds,
    qualityPreference: 0.5,
    weights: DEFAULT_WEIGHTS,
    ...over,
  };
}

const keys = (r: ReturnType<typeof scoreCandidates>) => r.ranked.map((c) => c.key);
const top = (over: Partial<ScoringInput>) => scoreCandidates(input(over)).ranked[0]?.key;
const find = (r: ReturnType<typeof scoreCandidates>, key: string) => {
  const c = r.ranked.find((x) => x.key === key);
  if (c === undefined) throw new Error(`${key} not ranked`);
  return c;
};

describe('the reference fleet with no measurements', () => {
  it('sends hard coding to qwen2.5-coder:32b', () => {
    expect(top({ category: 'coding', complexity: 'hard', complexityScore: 0.9 })).toBe('qwen2.5-coder:32b');
  });

  it('sends simple chit-chat to the small fast model when quality preference is low-ish', () => {
    for (const q of [0, 0.1, 0.2, 0.3]) {
      expect(top({ category: 'general', complexity: 'simple', complexityScore: 0.1, qualityPreference: q })).toBe('llama3.2:3b');
    }
  });

  it('sends an image request to llava, the only vision model', () => {
    const r = scoreCandidates(input({ needs: { ...noNeeds, vision: true } }));
    expect(keys(r)).toEqual(['llava:13b']);
    expect(r.excluded.map((e) => e.key)).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text', 'qwen2.5-coder:32b']);
  });

  it('never ranks the embedding model, whatever the request', () => {
    for (const category of CATEGORIES) {
      for (const complexity of COMPLEXITIES) {
        for (const q of [0, 0.5, 1]) {
          const r = scoreCandidates(input({ category, complexity, qualityPreference: q, complexityScore: 0 }));
          expect(keys(r)).not.toContain('nomic-embed-text');
          expect(r.excluded).toContainEqual({ key: 'nomic-embed-text', backend: 'gpu', reason: 'embedding model, cannot chat' });
        }
      }
    }
  });

  it('marks every prior-based factor as estimated', () => {
    const c = find(scoreCandidates(input()), 'llama3.1:8b');
    expect(c.estimated).toEqual(['capability', 'benchmark', 'speed']);
    for (const f of [c.factors.capability, c.factors.benchmark, c.factors.speed, c.factors.recency]) {
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThanOrEqual(1);
    }
  });
});

describe('exclusions', () => {
  it('gives a readable reason for each', () => {
    const models = [
      model('down', { available: false }),
      model('no-chat', { capabilities: caps({ chat: false }) }),
      model('embed', { capabilities: caps({ chat: false, embeddings: true }) }),
      model('blind', { capabilities: caps({ vision: false, tools: true }) }),
      model('no-tools', { capabilities: caps({ vision: true, tools: false }) }),
      model('short', { contextLength: 2048, capabilities: caps({ vision: true }) }),
      model('ok', { contextLength: 8192, capabilities: caps({ vision: true }) }),
      model('unknown-context', { capabilities: caps({ vision: true }) }),
    ];
    const r = scoreCandidates(input({ models, needs: { vision: true, tools: true, json: true, minContextTokens: 8192 } }));
    expect(keys(r).sort()).toEqual(['ok', 'unknown-context']);
    const reasons = Object.fromEntries(r.excluded.map((e) => [e.key, e.reason]));
    expect(reasons).toEqual({
      down: 'not available (gone from its backend, or the backend is down)',
      'no-chat': 'no chat capability',
      embed: 'embedding model, cannot chat',
      blind: 'request has images but the model has no vision',
      'no-tools': 'request uses tools but the model has no tool calling',
      short: 'context window 2048 tokens is smaller than the 8192 needed',
    });
  });

  it('checks availability before anything else', () => {
    const r = scoreCandidates(input({ models: [model('x', { available: false, capabilities: caps({ chat: false, embeddings: true }) })] }));
    expect(r.excluded[0]?.reason).toMatch(/^not available/);
  });

  it('excludes nothing for a json need (any chat model can try)', () => {
    const r = scoreCandidates(input({ needs: { ...noNeeds, json: true } }));
    expect(r.excluded.map((e) => e.key)).toEqual(['nomic-embed-text']);
  });

  it('all excluded: ranked is empty and excluded lists every model', () => {
    const models = fleet().map((m) => ({ ...m, available: false }));
    const r = scoreCandidates(input({ models }));
    expect(r.ranked).toEqual([]);
    expect(r.excluded.map((e) => e.key).sort()).toEqual(models.map((m) => m.key).sort());
  });

  it('empty fleet: nothing ranked, nothing excluded', () => {
    expect(scoreCandidates(input({ models: [] }))).toEqual({ ranked: [], excluded: [], capable: 0, chatModels: 0 });
  });
});

describe('quality preference', () => {
  it('0.5 gives exactly the configured weights; 1 ignores speed; 0 ignores quality', () => {
    const w = { capability: 0.4, benchmark: 0.3, speed: 0.2, recency: 0.1 };
    expect(effectiveWeights(w, 0.5)).toEqual(w);
    expect(effectiveWeights(w, 1)).toEqual({ capability: 0.8, benchmark: 0.6, speed: 0, recency: 0.1 });
    expect(effectiveWeights(w, 0)).toEqual({ capability: 0, benchmark: 0, speed: 0.4, recency: 0.1 });
    expect(effectiveWeights(w, Number.NaN)).toEqual(w);
    expect(effectiveWeights(w, 7)).toEqual(effectiveWeights(w, 1));
  });

  it('0 picks the fastest capable model, 1 the best', () => {
    // Medium coding needs 4B: llama3.2:3b is the fastest but too small, so 0 picks llama3.1:8b.
    expect(top({ category: 'coding', complexity: 'medium', qualityPreference: 0 })).toBe('llama3.1:8b');
    expect(top({ category: 'coding', complexity: 'medium', qualityPreference: 1 })).toBe('qwen2.5-coder:32b');
    // With no minimum, 0 picks the fastest of all.
    expect(top({ category: 'general', complexity: 'simple', qualityPreference: 0 })).toBe('llama3.2:3b');
  });

  it('uses measured speed when there is one', () => {
    const models = [
      model('slow-small', { parameterCountB: 3, profile: { scores: {}, tokensPerSecond: 20 } }),
      model('fast-big', { parameterCountB: 14, profile: { scores: {}, tokensPerSecond: 90, ttftMs: 150 } }),
    ];
    const r = scoreCandidates(input({ models, qualityPreference: 0 }));
    expect(keys(r)).toEqual(['fast-big', 'slow-small']);
    expect(find(r, 'fast-big').estimated).not.toContain('speed');
    // A slow first token lowers the speed factor.
    const laggy = scoreCandidates(input({ models: [model('a', { profile: { scores: {}, tokensPerSecond: 90, ttftMs: 5000 } })] }));
    expect(laggy.ranked[0]!.factors.speed).toBeLessThan(find(r, 'fast-big').factors.speed);
  });
});

describe('feedback', () => {
  it('shifts a close call', () => {
    const models = [
      model('a', { parameterCountB: 8, profile: { scores: { general: 0.71 } } }),
      model('b', { parameterCountB: 8, profile: { scores: { general: 0.7 } } }),
    ];
    expect(top({ models })).toBe('a');
    const r = scoreCandidates(input({ models, feedback: (key) => (key === 'a' ? -1 : undefined) }));
    expect(keys(r)).toEqual(['b', 'a']);
    expect(find(r, 'a').factors.feedback).toBeCloseTo(-FEEDBACK_WEIGHT);
    expect(find(r, 'b').factors.feedback).toBe(0);
  });

  it('cannot override a wide capability gap on its own', () => {
    const models = [
      model('strong', { parameterCountB: 8, profile: { scores: { coding: 0.9 } }, benchmark: { overall: 0.85 } }),
      model('weak', { parameterCountB: 8, profile: { scores: { coding: 0.45 } }, benchmark: { overall: 0.4 } }),
    ];
    const r = scoreCandidates(input({ models, category: 'coding', feedback: (key) => (key === 'strong' ? -1 : 1) }));
    expect(keys(r)).toEqual(['strong', 'weak']);
  });

  it('clamps out-of-range and ignores non-numeric feedback', () => {
    const one = [model('a', { parameterCountB: 8 })];
    expect(scoreCandidates(input({ models: one, feedback: () => -50 })).ranked[0]!.factors.feedback).toBeCloseTo(-FEEDBACK_WEIGHT);
    expect(scoreCandidates(input({ models: one, feedback: () => Number.NaN })).ranked[0]!.factors.feedback).toBe(0);
  });
});

describe('minimum size penalty', () => {
  it('holds the issue table', () => {
    expect(MIN_SIZE_B).toEqual({
      coding: { simple: 0, medium: 4, hard: 8 },
      reasoning: { simple: 0, medium: 4, hard: 8 },
      creativity: { simple: 0, medium: 1, hard: 4 },
      general: { simple: 0, medium: 1, hard: 4 },
    });
    expect(Object.isFrozen(MIN_SIZE_B.coding)).toBe(true);
  });

  it('is -10 x relative deficit', () => {
    expect(sizePenalty('coding', 'hard', 7)).toBeCloseTo(-1.25);
    expect(sizePenalty('coding', 'hard', 1)).toBeCloseTo(-8.75);
    expect(sizePenalty('reasoning', 'medium', 3)).toBeCloseTo(-2.5);
    expect(sizePenalty('creativity', 'hard', 2)).toBeCloseTo(-5);
    expect(sizePenalty('general', 'medium', 0.5)).toBeCloseTo(-5);
    expect(sizePenalty('coding', 'hard', 8)).toBe(0);
    expect(sizePenalty('coding', 'hard', 70)).toBe(0);
    expect(sizePenalty('coding', 'simple', 0.5)).toBe(0);
    expect(sizePenalty('coding', 'hard', undefined)).toBe(0);
  });

  it('applies only when the size is known (reported, or read from the name)', () => {
    const models = [
      model('reported', { modelId: 'mystery', parameterCountB: 7 }),
      model('named', { modelId: 'tiny-model:1b' }),
      model('unknown', { modelId: 'gpt-4o-mini' }),
    ];
    const r = scoreCandidates(input({ models, category: 'coding', complexity: 'hard' }));
    expect(find(r, 'reported').factors.sizePenalty).toBeCloseTo(-1.25);
    expect(find(r, 'reported').estimated).not.toContain('sizePenalty');
    expect(find(r, 'named').factors.sizePenalty).toBeCloseTo(-8.75);
    expect(find(r, 'named').estimated).toContain('sizePenalty');
    expect(find(r, 'unknown').factors.sizePenalty).toBe(0);
    expect(keys(r)[0]).toBe('unknown');
  });
});

describe('recency', () => {
  it('alternates between two equal models', () => {
    const models = [model('twin-b', { parameterCountB: 8 }), model('twin-a', { parameterCountB: 8 })];
    // The share is taken over every decision so far.
    const choices: string[] = [];
    const recentShare = (key: string) => (choices.length === 0 ? 0 : choices.filter((k) => k === key).length / choices.length);
    for (let i = 0; i < 6; i++) choices.push(scoreCandidates(input({ models, recentShare })).ranked[0]!.key);
    // First a tie (broken by key), then the one used less, back and forth.
    expect(choices).toEqual(['twin-a', 'twin-b', 'twin-a', 'twin-b', 'twin-a', 'twin-b']);
  });

  it('is 1 - share, and 1 without a share callback', () => {
    const one = [model('a', { parameterCountB: 8 })];
    expect(scoreCandidates(input({ models: one })).ranked[0]!.factors.recency).toBe(1);
    expect(scoreCandidates(input({ models: one, recentShare: () => 0.75 })).ranked[0]!.factors.recency).toBe(0.25);
    expect(scoreCandidates(input({ models: one, recentShare: () => Number.NaN })).ranked[0]!.factors.recency).toBe(1);
  });
});

describe('measurements and priors', () => {
  it('a measured profile beats the prior', () => {
    const models = fleet();
    models[0] = { ...models[0]!, profile: { scores: { coding: 0.35 } } }; // the coder disappoints the judge
    models[2] = { ...models[2]!, profile: { scores: { coding: 0.92 } }, benchmark: { byCategory: { coding: 0.8 }, overall: 0.1 } };
    const r = scoreCandidates(input({ models, category: 'coding', complexity: 'hard', complexityScore: 0.9 }));
    expect(keys(r)[0]).toBe('llama3.1:8b');
    const c = find(r, 'llama3.1:8b');
    expect(c.factors.capability).toBe(0.92);
    expect(c.factors.benchmark).toBe(0.8); // the category score wins over overall
    expect(c.estimated).toEqual(['speed']);
    expect(find(r, 'qwen2.5-coder:32b').estimated).toEqual(['benchmark', 'speed']);
  });

  it('falls back from benchmark category to overall', () => {
    const r = scoreCandidates(input({ models: [model('a', { benchmark: { overall: 0.66, byCategory: { coding: 0.9 } } })] }));
    expect(r.ranked[0]!.factors.benchmark).toBe(0.66);
  });

  it('priors follow size on a log scale and name hints', () => {
    const prior = (modelId: string, category: Parameters<typeof priorCapability>[1], thinking?: boolean) =>
      priorCapability(modelHints({ modelId, capabilities: { thinking } }), category, 0.5);
    expect(prior('tiny:0.5b', 'general')).toBeLessThan(prior('small:3b', 'general'));
    expect(prior('small:3b', 'general')).toBeLessThan(prior('mid:8b', 'general'));
    expect(prior('mid:8b', 'general')).toBeLessThan(prior('big:70b', 'general'));
    expect(prior('big:70b', 'general')).toBe(prior('huge:405b', 'general')); // the scale tops out at 70B
    expect(prior('qwen2.5-coder:7b', 'coding')).toBeGreaterThan(prior('qwen2.5:7b', 'coding'));
    expect(prior('qwen2.5-coder:7b', 'creativity')).toBeLessThan(prior('qwen2.5:7b', 'creativity'));
    expect(prior('deepseek-r1:8b', 'reasoning')).toBeGreaterThan(prior('llama3.1:8b', 'reasoning'));
    expect(prior('mystery:8b', 'reasoning', true)).toBeGreaterThan(prior('mystery:8b', 'reasoning'));
    expect(prior('llama3.1:8b-instruct', 'general')).toBe(prior('llama3.1:8b', 'general'));
    expect(prior('gpt-4o', 'general')).toBe(0.5);
  });

  it('reads sizes from names', () => {
    expect(parseParameterCountB('qwen2.5-coder:32b')).toBe(32);
    expect(parseParameterCountB('llama3.2:3b')).toBe(3);
    expect(parseParameterCountB('phi3:3.8b-mini-instruct-q4_K_M')).toBe(3.8);
    expect(parseParameterCountB('mixtral:8x7b')).toBe(56);
    expect(parseParameterCountB('smollm2:135m')).toBeCloseTo(0.135);
    expect(parseParameterCountB('qwen3-30b-a3b')).toBe(30);
    expect(parseParameterCountB('Qwen2.5-Coder-32B-Instruct-Q4_K_M.gguf')).toBe(32);
    expect(parseParameterCountB('qwen2.5:latest')).toBeUndefined();
    expect(parseParameterCountB('nomic-embed-text')).toBeUndefined();
    expect(parseParameterCountB('gpt-4o')).toBeUndefined();
  });

  it('re-reads hints when a cached model object changes in place', () => {
    const m = model('x', { modelId: 'x:3b' });
    expect(modelHints(m).parameterCountB).toBe(3);
    m.parameterCountB = 14;
    expect(modelHints(m).parameterCountB).toBe(14);
  });
});

describe('vram', () => {
  it('gives a small bonus when loaded, a penalty when it would not fit, nothing when unknown', () => {
    const models = [
      model('loaded', { parameterCountB: 8, vram: { loaded: true, fits: true } }),
      model('cold', { parameterCountB: 8, vram: { loaded: false, fits: true } }),
      model('unknown', { parameterCountB: 8 }),
      model('too-big', { parameterCountB: 8, vram: { loaded: false, fits: false } }),
    ];
    const r = scoreCandidates(input({ models }));
    expect(keys(r)).toEqual(['loaded', 'cold', 'unknown', 'too-big']);
    expect(find(r, 'loaded').factors.vram).toBe(VRAM_LOADED_BONUS);
    expect(find(r, 'cold').factors.vram).toBe(0);
    expect(find(r, 'unknown').factors.vram).toBe(0);
    expect(find(r, 'too-big').factors.vram).toBe(VRAM_NO_FIT_PENALTY);
  });
});

describe('determinism', () => {
  it('gives the same order for the same models in any input order, ties broken by key', () => {
    const models = [...fleet(), model('twin-b', { parameterCountB: 8 }), model('twin-a', { parameterCountB: 8 })];
    const base = scoreCandidates(input({ models }));
    const reversed = scoreCandidates(input({ models: [...models].reverse() }));
    expect(reversed).toEqual(base);
    expect(scoreCandidates(input({ models }))).toEqual(base);
    const twins = keys(base).filter((k) => k.startsWith('twin'));
    expect(twins).toEqual(['twin-a', 'twin-b']);
    // The twins tie with llama3.1:8b too (same size, no hints): all three sorted by key.
    const eights = keys(base).filter((k) => k === 'llama3.1:8b' || k.startsWith('twin'));
    expect(eights).toEqual(['llama3.1:8b', 'twin-a', 'twin-b']);
  });

  it('ranks strictly by total', () => {
    const r = scoreCandidates(input({ category: 'reasoning', complexity: 'hard', complexityScore: 0.8 }));
    for (let i = 1; i < r.ranked.length; i++) expect(r.ranked[i - 1]!.total).toBeGreaterThanOrEqual(r.ranked[i]!.total);
  });
});

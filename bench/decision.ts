/**
 * Routing decision time with 10, 50 and 200 models (what Router.plan does after classification:
 * read the request's needs, filter and score every model), and classification time.
 */
import type { ToolDefinition } from '../src/plugin-api/index.js';
import { classify } from '../src/plugins/classifiers/builtin/index.js';
import { detectNeeds } from '../src/core/needs.js';
import { DEFAULT_WEIGHTS, scoreCandidates, type RoutableModel } from '../src/core/scoring.js';
import { summarize, timeSync } from './stats.js';

const FAMILIES = ['llama', 'qwen2', 'gemma', 'mistral', 'phi3'];

export function syntheticFleet(n: number): RoutableModel[] {
  return Array.from({ length: n }, (_, i) => {
    const size = [0.5, 1.5, 3, 7, 8, 14, 32, 70][i % 8]!;
    const family = FAMILIES[i % FAMILIES.length]!;
    return {
      key: `${family}-${i}:${size}b`,
      backend: `b${i % 4}`,
      modelId: `${family}-${i}:${size}b`,
      family,
      parameterCountB: size,
      contextLength: 8192 * (1 + (i % 4)),
      capabilities: { chat: i % 10 !== 9, vision: i % 7 === 0, tools: i % 2 === 0, embeddings: i % 10 === 9 },
      available: i % 13 !== 12,
      profile: i % 3 === 0 ? { scores: { coding: (i % 10) / 10, reasoning: 0.5, creativity: 0.6, general: 0.7 }, tokensPerSecond: 20 + i } : undefined,
    };
  });
}

export function decisionBench(): Array<{ name: string; p50_us: number; p99_us: number }> {
  const rows: Array<{ name: string; p50_us: number; p99_us: number }> = [];
  const tools: ToolDefinition[] = [{ name: 'run_python', description: 'Runs Python code', parameters: { type: 'object', properties: { code: { type: 'string' } } } }];
  const request = { messages: [{ role: 'user' as const, content: 'Write a Python function that returns the n-th Fibonacci number.' }], tools, maxTokens: 2000 };
  for (const n of [10, 50, 200]) {
    const models = syntheticFleet(n);
    const shares = new Map(models.map((m, i) => [m.key, (i % 5) / 10]));
    const samples = timeSync(
      () =>
        scoreCandidates({
          models,
          category: 'coding',
          complexity: 'hard',
          complexityScore: 0.8,
          needs: detectNeeds(request),
          qualityPreference: 0.5,
          weights: DEFAULT_WEIGHTS,
          recentShare: (k) => shares.get(k) ?? 0,
          feedback: () => undefined,
        }),
      n >= 200 ? 5000 : 20000,
    );
    const s = summarize(samples);
    rows.push({ name: `routing decision, ${n} models`, p50_us: s.p50, p99_us: s.p99 });
  }
  const short = [{ role: 'user' as const, content: 'Write a Python function that checks whether a string is a palindrome.' }];
  const longText = Array.from({ length: 800 }, (_, i) => `Line ${i}: the quarterly report shows revenue grew while costs fell in region ${i % 7}.`).join('\n');
  const long = [{ role: 'user' as const, content: `${longText}\n\nSummarize the report above for the board.` }];
  for (const [name, messages, n] of [
    ['classification, short prompt', short, 20000],
    ['classification, ~8k-token prompt', long, 500],
  ] as const) {
    const s = summarize(timeSync(() => classify({ messages: [...messages] }), n, 50));
    rows.push({ name, p50_us: s.p50, p99_us: s.p99 });
  }
  return rows;
}

/**
 * A ready-made set of simulated models for `npm run demo` and `npm run bench`: a small, plausible
 * home-lab fleet whose strengths differ by category, so routing decisions are visible.
 */
import type { SimModel } from './types.js';

export interface DemoFleet {
  ollama: SimModel[];
  llamacpp: SimModel[];
  openai: SimModel[];
}

/**
 * `fast: true` (benches) drops the simulated latency: answers stream as fast as possible.
 * Otherwise speeds are in the range of a consumer GPU, so the demo feels real.
 */
export function demoFleet(options: { fast?: boolean } = {}): DemoFleet {
  const speed = (tokensPerSecond: number, firstTokenMs: number): Pick<SimModel, 'tokensPerSecond' | 'firstTokenMs'> =>
    options.fast ? { tokensPerSecond: 0, firstTokenMs: 0 } : { tokensPerSecond, firstTokenMs };
  return {
    ollama: [
      {
        id: 'qwen2.5-coder:7b',
        family: 'qwen2',
        parameterSizeB: 7.6,
        contextLength: 32768,
        capabilities: { tools: true },
        quality: { coding: 0.92, reasoning: 0.6, creativity: 0.4, general: 0.55 },
        ...speed(60, 120),
      },
      {
        id: 'llama3.2:3b',
        family: 'llama',
        parameterSizeB: 3.2,
        contextLength: 131072,
        capabilities: { tools: true },
        quality: { coding: 0.45, reasoning: 0.4, creativity: 0.65, general: 0.72 },
        ...speed(110, 60),
      },
      {
        id: 'qwen3:8b',
        family: 'qwen3',
        parameterSizeB: 8.2,
        contextLength: 40960,
        capabilities: { tools: true, thinking: true },
        quality: { coding: 0.75, reasoning: 0.93, creativity: 0.55, general: 0.7 },
        ...speed(45, 200),
      },
      {
        id: 'llava:7b',
        family: 'llama',
        parameterSizeB: 7.2,
        capabilities: { vision: true },
        quality: { coding: 0.3, reasoning: 0.35, creativity: 0.5, general: 0.6 },
        ...speed(55, 250),
      },
      {
        id: 'nomic-embed-text:latest',
        family: 'nomic-bert',
        parameterSizeB: 0.137,
        quantization: 'F16',
        contextLength: 2048,
        capabilities: { embeddings: true },
        embeddingDim: 256,
      },
    ],
    llamacpp: [
      {
        id: 'gemma-3-12b-it',
        family: 'gemma3',
        parameterSizeB: 12.2,
        contextLength: 32768,
        capabilities: { vision: true },
        quality: { coding: 0.6, reasoning: 0.7, creativity: 0.9, general: 0.82 },
        ...speed(30, 300),
      },
    ],
    openai: [
      {
        id: 'gpt-4o-mini',
        family: 'gpt',
        parameterSizeB: 8,
        contextLength: 128000,
        capabilities: { tools: true, vision: true },
        quality: { coding: 0.85, reasoning: 0.8, creativity: 0.8, general: 0.88 },
        ...speed(90, 400),
      },
      {
        id: 'text-embedding-3-small',
        family: 'gpt',
        contextLength: 8191,
        capabilities: { embeddings: true },
        embeddingDim: 256,
      },
    ],
  };
}

/**
 * Bundled benchmark figures: what the router knows with no network at all.
 *
 * Figures are transcribed from the public model cards, technical reports and announcements named
 * in SOURCES, laid out as in those tables so they are easy to check. A figure we were not sure of
 * was left out (null), never estimated. Refresh with the importers (ROUTER_BENCHMARK_SOURCES) and
 * bump BUNDLED_VERSION when editing. See README.md next to this file.
 *
 * Entry ids are lower-case, family-version-size-variant: instruct models end in -instruct / -it
 * (as their publishers name them) or are instruct-only (phi-4, the R1 distills, API models);
 * pretrained models end in -base so the name matcher never mistakes them for instruct models.
 */

export const BUNDLED_VERSION = '2026.11-1';
/** When the figures were transcribed (stored as fetchedAt of bundled rows). */
export const BUNDLED_TRANSCRIBED_AT = '2026-11-28T00:00:00.000Z';

export interface BundledSource {
  id: string;
  title: string;
  url: string;
}

export interface BundledRow {
  entry: string;
  benchmark: string;
  /** As published: a percentage, or an Elo rating for Arena. */
  score: number;
  /** Id of the source in SOURCES. */
  source: string;
  /** Evaluation detail worth knowing when comparing (shots, variant of the benchmark). */
  note?: string;
}

export const SOURCES = {
  llama31: { id: 'llama-3.1-model-card', title: 'Meta Llama 3.1 model card (also re-reports Llama 3)', url: 'https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md' },
  llama32: { id: 'llama-3.2-model-card', title: 'Meta Llama 3.2 (1B, 3B) model card', url: 'https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD.md' },
  llama32v: { id: 'llama-3.2-vision-model-card', title: 'Meta Llama 3.2 Vision model card', url: 'https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD_VISION.md' },
  llama33: { id: 'llama-3.3-model-card', title: 'Meta Llama 3.3 model card', url: 'https://github.com/meta-llama/llama-models/blob/main/models/llama3_3/MODEL_CARD.md' },
  qwen25: { id: 'qwen2.5-report', title: 'Qwen2.5 blog and technical report (arXiv 2412.15115)', url: 'https://qwenlm.github.io/blog/qwen2.5-llm/' },
  qwen25coder: { id: 'qwen2.5-coder-report', title: 'Qwen2.5-Coder technical report (arXiv 2409.12186) and family blog', url: 'https://qwenlm.github.io/blog/qwen2.5-coder-family/' },
  qwen3: { id: 'qwen3-report', title: 'Qwen3 technical report (arXiv 2505.09388), base-model tables', url: 'https://arxiv.org/abs/2505.09388' },
  gemma2: { id: 'gemma-2-model-card', title: 'Gemma 2 model card (pretrained models)', url: 'https://ai.google.dev/gemma/docs/core/model_card_2' },
  gemma2report: { id: 'gemma-2-report', title: 'Gemma 2 technical report (arXiv 2408.00118), Chatbot Arena table', url: 'https://arxiv.org/abs/2408.00118' },
  gemma3: { id: 'gemma-3-model-card', title: 'Gemma 3 model card (pretrained models)', url: 'https://ai.google.dev/gemma/docs/core/model_card_3' },
  gemma3report: { id: 'gemma-3-report', title: 'Gemma 3 technical report (arXiv 2503.19786), instruction-tuned models', url: 'https://arxiv.org/abs/2503.19786' },
  mistral7b: { id: 'mistral-7b-paper', title: 'Mistral 7B (arXiv 2310.06825)', url: 'https://arxiv.org/abs/2310.06825' },
  mistralNemo: { id: 'mistral-nemo-announcement', title: 'Mistral NeMo announcement', url: 'https://mistral.ai/news/mistral-nemo' },
  mistralSmall3: { id: 'mistral-small-3-model-card', title: 'Mistral-Small-24B-Instruct-2501 model card', url: 'https://huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501' },
  mixtral: { id: 'mixtral-paper', title: 'Mixtral of Experts (arXiv 2401.04088)', url: 'https://arxiv.org/abs/2401.04088' },
  phi3: { id: 'phi-3-report', title: 'Phi-3 technical report (arXiv 2404.14219)', url: 'https://arxiv.org/abs/2404.14219' },
  phi35: { id: 'phi-3.5-mini-model-card', title: 'Phi-3.5-mini-instruct model card', url: 'https://huggingface.co/microsoft/Phi-3.5-mini-instruct' },
  phi4: { id: 'phi-4-report', title: 'Phi-4 technical report (arXiv 2412.08905)', url: 'https://arxiv.org/abs/2412.08905' },
  phi4mini: { id: 'phi-4-mini-model-card', title: 'Phi-4-mini-instruct model card', url: 'https://huggingface.co/microsoft/Phi-4-mini-instruct' },
  deepseekR1: { id: 'deepseek-r1-report', title: 'DeepSeek-R1 report (arXiv 2501.12948), distilled models table', url: 'https://github.com/deepseek-ai/DeepSeek-R1' },
  deepseekCoderV2: { id: 'deepseek-coder-v2-report', title: 'DeepSeek-Coder-V2 report (arXiv 2406.11931)', url: 'https://arxiv.org/abs/2406.11931' },
  codellama: { id: 'code-llama-paper', title: 'Code Llama (arXiv 2308.12950)', url: 'https://arxiv.org/abs/2308.12950' },
  starcoder2: { id: 'starcoder2-paper', title: 'StarCoder 2 and The Stack v2 (arXiv 2402.19173)', url: 'https://arxiv.org/abs/2402.19173' },
  starcoder2Instruct: { id: 'starcoder2-instruct-model-card', title: 'StarCoder2-15B-Instruct-v0.1 model card', url: 'https://huggingface.co/bigcode/starcoder2-15b-instruct-v0.1' },
  llavaNext: { id: 'llava-next-blog', title: 'LLaVA-NeXT (LLaVA-1.6) release blog', url: 'https://llava-vl.github.io/blog/2024-01-30-llava-next/' },
  openaiMini: { id: 'openai-gpt-4o-mini-announcement', title: 'OpenAI: GPT-4o mini announcement (comparison table)', url: 'https://openai.com/index/gpt-4o-mini-advancing-cost-efficient-intelligence/' },
} as const satisfies Record<string, BundledSource>;

type Cell = number | null;

/** Expands a table laid out as in the source (one row per model, one column per benchmark). */
function table(source: BundledSource, benchmarks: readonly string[], rows: readonly [string, ...Cell[]][], note?: Record<string, string>): BundledRow[] {
  const out: BundledRow[] = [];
  for (const [entry, ...cells] of rows) {
    if (cells.length !== benchmarks.length) throw new Error(`bundled benchmarks: ${entry} has ${cells.length} cells for ${benchmarks.length} columns`);
    cells.forEach((score, i) => {
      if (score === null) return;
      const benchmark = benchmarks[i]!;
      const row: BundledRow = { entry, benchmark, score, source: source.id };
      if (note?.[benchmark] !== undefined) row.note = note[benchmark];
      out.push(row);
    });
  }
  return out;
}

const S = SOURCES;

export const BUNDLED_ROWS: readonly BundledRow[] = Object.freeze([
  // ---- Meta Llama ------------------------------------------------------------------------------
  ...table(S.llama31, ['MMLU', 'MMLU-Pro', 'HumanEval', 'MBPP', 'GSM8K', 'MATH', 'IFEval', 'GPQA'], [
    ['llama-3-8b-instruct', 68.5, 45.5, 60.4, 70.6, 80.6, 29.1, 76.8, 34.6],
    ['llama-3-70b-instruct', 82.0, 63.4, 81.7, 82.5, 93.0, 51.0, 82.9, 39.5],
    ['llama-3.1-8b-instruct', 69.4, 48.3, 72.6, 72.8, 84.5, 51.9, 80.4, 30.4],
    ['llama-3.1-70b-instruct', 83.6, 66.4, 80.5, 86.0, 95.1, 68.0, 87.5, 46.7],
    ['llama-3.1-405b-instruct', 87.3, 73.3, 89.0, 88.6, 96.8, 73.8, 88.6, 50.7],
  ], { MMLU: '5-shot', 'MMLU-Pro': '5-shot CoT', MBPP: 'MBPP++ base version', GSM8K: '8-shot CoT', MATH: '0-shot CoT' }),
  ...table(S.llama31, ['MMLU', 'MMLU-Pro', 'BBH'], [
    ['llama-3-8b-base', 66.7, 36.2, 61.1],
    ['llama-3-70b-base', 79.5, 55.0, 81.3],
    ['llama-3.1-8b-base', 66.7, 37.1, 64.2],
    ['llama-3.1-70b-base', 79.3, 53.8, 81.6],
    ['llama-3.1-405b-base', 85.2, 61.6, 85.9],
  ], { MMLU: '5-shot', 'MMLU-Pro': '5-shot CoT', BBH: '3-shot CoT' }),
  ...table(S.llama32, ['MMLU', 'GSM8K', 'MATH', 'IFEval', 'GPQA'], [
    ['llama-3.2-1b-instruct', 49.3, 44.4, 30.6, 59.5, 27.2],
    ['llama-3.2-3b-instruct', 63.4, 77.7, 47.3, 77.4, 32.8],
  ], { MMLU: '5-shot', GSM8K: '8-shot CoT', MATH: '0-shot CoT' }),
  ...table(S.llama32, ['MMLU'], [
    ['llama-3.2-1b-base', 32.2],
    ['llama-3.2-3b-base', 58.0],
  ], { MMLU: '5-shot' }),
  ...table(S.llama32v, ['MMMU', 'MMLU', 'MATH', 'GPQA'], [
    ['llama-3.2-11b-vision-instruct', 50.7, 73.0, 51.9, 32.8],
    ['llama-3.2-90b-vision-instruct', 60.3, 86.0, 68.0, 46.7],
  ], { MMMU: 'val, CoT', MMLU: '0-shot CoT', MATH: '0-shot CoT' }),
  ...table(S.llama33, ['MMLU', 'MMLU-Pro', 'HumanEval', 'MBPP', 'MATH', 'IFEval', 'GPQA'], [
    ['llama-3.3-70b-instruct', 86.0, 68.9, 88.4, 87.6, 77.0, 92.1, 50.5],
  ], { MMLU: '0-shot CoT', MBPP: 'MBPP EvalPlus (base)', GPQA: 'Diamond, 0-shot CoT' }),

  // ---- Qwen ------------------------------------------------------------------------------------
  ...table(S.qwen25, ['MMLU-Pro', 'MATH', 'GSM8K', 'HumanEval', 'MBPP'], [
    ['qwen2.5-0.5b-instruct', 15.0, 34.4, 49.6, 35.4, null],
    ['qwen2.5-1.5b-instruct', 32.4, 55.2, 73.2, 61.6, 63.2],
    ['qwen2.5-3b-instruct', 43.7, 65.9, 86.7, 74.4, 72.7],
    ['qwen2.5-7b-instruct', 56.3, 75.5, 91.6, 84.8, 79.2],
    ['qwen2.5-14b-instruct', 63.7, 80.0, 94.8, 83.5, 82.0],
    ['qwen2.5-32b-instruct', 69.0, 83.1, 95.9, 88.4, 84.0],
    ['qwen2.5-72b-instruct', 71.1, 83.1, 95.8, 86.6, 88.2],
  ]),
  ...table(S.qwen25, ['MMLU'], [
    ['qwen2.5-0.5b-base', 47.5],
    ['qwen2.5-1.5b-base', 60.9],
    ['qwen2.5-3b-base', 65.6],
    ['qwen2.5-7b-base', 74.2],
    ['qwen2.5-14b-base', 79.7],
    ['qwen2.5-32b-base', 83.3],
    ['qwen2.5-72b-base', 86.1],
  ]),
  ...table(S.qwen25coder, ['HumanEval', 'MBPP'], [
    ['qwen2.5-coder-0.5b-instruct', 61.6, 52.4],
    ['qwen2.5-coder-1.5b-instruct', 70.7, 69.2],
    ['qwen2.5-coder-3b-instruct', 84.1, 73.6],
    ['qwen2.5-coder-7b-instruct', 88.4, 83.5],
    ['qwen2.5-coder-14b-instruct', 89.6, 86.2],
    ['qwen2.5-coder-32b-instruct', 92.7, 90.2],
  ]),
  // The Qwen3 report scores post-trained models on other benchmarks (AIME, LiveCodeBench, Arena-Hard);
  // MMLU/GSM8K/MATH/EvalPlus are published for the base models, which the matcher offers to the
  // post-trained models with reduced confidence.
  ...table(S.qwen3, ['MMLU', 'MMLU-Pro', 'GSM8K', 'MATH', 'EvalPlus'], [
    ['qwen3-0.6b-base', 52.81, 24.74, 59.59, 32.44, 36.23],
    ['qwen3-1.7b-base', 62.63, 36.76, 75.44, 43.5, 52.7],
    ['qwen3-4b-base', 72.99, 50.58, 87.79, 54.1, 63.53],
    ['qwen3-8b-base', 76.89, 56.73, 89.84, 60.8, 67.65],
    ['qwen3-14b-base', 81.05, 61.03, 92.49, 62.02, 72.23],
    ['qwen3-32b-base', 83.61, 65.54, 93.4, 61.62, 72.05],
    ['qwen3-30b-a3b-base', 81.38, 61.49, 91.81, 59.04, 71.45],
  ]),

  // ---- Google Gemma ----------------------------------------------------------------------------
  ...table(S.gemma2, ['MMLU', 'GSM8K', 'MATH', 'HumanEval', 'MBPP'], [
    ['gemma-2-2b-base', 51.3, 23.9, 15.0, 17.7, 29.6],
    ['gemma-2-9b-base', 71.3, 68.6, 36.6, 40.2, 52.4],
    ['gemma-2-27b-base', 75.2, 74.0, 42.3, 51.8, 62.6],
  ], { MMLU: '5-shot', GSM8K: '5-shot maj@1', MATH: '4-shot', MBPP: '3-shot' }),
  ...table(S.gemma2report, ['Arena'], [
    ['gemma-2-2b-it', 1126],
    ['gemma-2-9b-it', 1187],
    ['gemma-2-27b-it', 1218],
  ], { Arena: 'LMSYS Chatbot Arena snapshot quoted in the report' }),
  ...table(S.gemma3report, ['MMLU-Pro', 'MATH'], [
    ['gemma-3-1b-it', 14.7, 48.0],
    ['gemma-3-4b-it', 43.6, 75.6],
    ['gemma-3-12b-it', 60.6, 83.8],
    ['gemma-3-27b-it', 67.5, 89.0],
  ]),
  ...table(S.gemma3report, ['Arena'], [['gemma-3-27b-it', 1338]], { Arena: 'LMSYS Chatbot Arena, preliminary rating quoted in the report' }),
  ...table(S.gemma3, ['MMLU', 'MMLU-Pro', 'GSM8K', 'MATH', 'HumanEval', 'MBPP', 'MMMU'], [
    ['gemma-3-4b-base', 59.6, 29.2, 38.4, 24.2, 36.0, 46.0, 39.3],
    ['gemma-3-12b-base', 74.5, 45.3, 71.0, 43.3, 45.7, 60.4, 50.3],
    ['gemma-3-27b-base', 78.6, 52.2, 82.6, 50.0, 48.8, 65.6, 56.1],
  ], { MMLU: '5-shot', 'MMLU-Pro': '5-shot CoT', GSM8K: '8-shot', MATH: '4-shot', MBPP: '3-shot' }),

  // ---- Mistral ---------------------------------------------------------------------------------
  ...table(S.mistral7b, ['MMLU', 'HumanEval', 'MBPP', 'GSM8K', 'MATH'], [
    ['mistral-7b-base-v0.1', 60.1, 30.5, 47.5, 52.2, 13.1],
  ], { GSM8K: 'maj@8', MATH: 'maj@4' }),
  ...table(S.mistralNemo, ['MMLU'], [['mistral-nemo-12b-base-2407', 68.0]]),
  ...table(S.mistralSmall3, ['MMLU-Pro', 'HumanEval', 'MATH', 'GPQA'], [
    ['mistral-small-24b-instruct-2501', 66.3, 84.8, 70.6, 45.3],
  ]),
  ...table(S.mixtral, ['MMLU', 'HumanEval', 'MBPP', 'GSM8K', 'MATH'], [
    ['mixtral-8x7b-base-v0.1', 70.6, 40.2, 60.7, 74.4, 28.4],
  ], { GSM8K: 'maj@8', MATH: 'maj@4' }),
  ...table(S.gemma2report, ['Arena'], [['mixtral-8x7b-instruct-v0.1', 1114]], { Arena: 'LMSYS Chatbot Arena snapshot quoted in the report' }),

  // ---- Microsoft Phi ---------------------------------------------------------------------------
  ...table(S.phi3, ['MMLU', 'GSM8K', 'HumanEval', 'MBPP'], [
    ['phi-3-mini-4k-instruct', 68.8, 82.5, 58.5, 70.0],
    ['phi-3-medium-4k-instruct', 78.0, 91.0, 62.2, 75.2],
  ]),
  ...table(S.phi35, ['MMLU', 'GSM8K', 'MATH', 'HumanEval', 'MBPP'], [
    ['phi-3.5-mini-instruct', 69.0, 86.2, 48.5, 62.8, 69.6],
  ]),
  ...table(S.phi4, ['MMLU', 'MATH', 'HumanEval', 'GPQA'], [['phi-4', 84.8, 80.4, 82.6, 56.1]]),
  ...table(S.phi4mini, ['MMLU', 'MMLU-Pro', 'GSM8K', 'MATH', 'HumanEval', 'MBPP'], [
    ['phi-4-mini-instruct', 67.3, 52.8, 88.6, 64.0, 74.4, 65.3],
  ]),

  // ---- DeepSeek --------------------------------------------------------------------------------
  ...table(S.deepseekR1, ['AIME-2024', 'MATH-500', 'GPQA', 'LiveCodeBench'], [
    ['deepseek-r1-distill-qwen-1.5b', 28.9, 83.9, 33.8, 16.9],
    ['deepseek-r1-distill-qwen-7b', 55.5, 92.8, 49.1, 37.6],
    ['deepseek-r1-distill-qwen-14b', 69.7, 93.9, 59.1, 53.1],
    ['deepseek-r1-distill-qwen-32b', 72.6, 94.3, 62.1, 57.2],
    ['deepseek-r1-distill-llama-8b', 50.4, 89.1, 49.0, 39.6],
    ['deepseek-r1-distill-llama-70b', 70.0, 94.5, 65.2, 57.5],
  ], { 'AIME-2024': 'pass@1', GPQA: 'Diamond, pass@1' }),
  ...table(S.deepseekCoderV2, ['HumanEval', 'GSM8K', 'MATH', 'MMLU'], [
    ['deepseek-coder-v2-lite-instruct', 81.1, 86.4, 61.8, 60.1],
  ]),

  // ---- Code models -----------------------------------------------------------------------------
  ...table(S.codellama, ['HumanEval', 'MBPP'], [
    ['codellama-7b-instruct', 34.8, 44.4],
    ['codellama-13b-instruct', 42.7, 49.4],
    ['codellama-34b-instruct', 41.5, 57.0],
    ['codellama-70b-instruct', 67.8, 62.2],
    ['codellama-7b-base', 33.5, 41.4],
    ['codellama-13b-base', 36.0, 47.0],
    ['codellama-34b-base', 48.8, 55.0],
    ['codellama-70b-base', 53.0, 62.4],
  ]),
  ...table(S.starcoder2, ['HumanEval', 'MBPP'], [
    ['starcoder2-3b', 31.7, 57.4],
    ['starcoder2-7b', 35.4, 54.4],
    ['starcoder2-15b', 46.3, 66.2],
  ]),
  ...table(S.starcoder2Instruct, ['HumanEval'], [['starcoder2-15b-instruct-v0.1', 72.6]]),

  // ---- Vision-first ----------------------------------------------------------------------------
  ...table(S.llavaNext, ['MMMU'], [
    ['llava-v1.6-mistral-7b', 35.3],
    ['llava-v1.6-vicuna-7b', 35.8],
    ['llava-v1.6-vicuna-13b', 36.2],
    ['llava-v1.6-34b', 51.1],
  ], { MMMU: 'val' }),

  // ---- Hosted API models -----------------------------------------------------------------------
  ...table(S.openaiMini, ['MMLU', 'GPQA', 'MATH', 'HumanEval', 'MMMU'], [
    ['gpt-4o-mini', 82.0, 40.2, 70.2, 87.2, 59.4],
    ['gpt-4o', 88.7, 53.6, 76.6, 90.2, 69.1],
  ]),
]);

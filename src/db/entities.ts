/**
 * Persistent state, as MikroORM EntitySchemas (no decorators: tsx/esbuild emits no decorator
 * metadata, so decorator entities pass tests and fail at runtime; see STACK.md).
 * The tables themselves are created by migrations (src/db/migrations), never by schema sync.
 */
import { EntitySchema } from '@mikro-orm/core';

/** A model seen on a backend. Never deleted: a vanished model is marked unavailable. */
export interface ModelRecord {
  id: number;
  /** Router-wide id, e.g. "qwen2.5-coder:7b" or "gpu/qwen2.5-coder:7b" when qualified. */
  key: string;
  backend: string;
  /** Backend-local model id. */
  modelId: string;
  family?: string | null;
  parameterCountB?: number | null;
  quantization?: string | null;
  contextLength?: number | null;
  /** JSON of ModelCapabilities. */
  capabilities: string;
  sizeBytes?: number | null;
  digest?: string | null;
  available: boolean;
  /** Measured VRAM in bytes (null until measured). */
  vramBytes?: number | null;
  vramMeasuredAt?: Date | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** Per-model, per-category result of runtime profiling. */
export interface ProfileRecord {
  id: number;
  modelKey: string;
  category: string;
  /** Judge score 0..1, averaged over the category's prompts. */
  score: number;
  ttftMs?: number | null;
  tokensPerSecond?: number | null;
  totalLatencyMs?: number | null;
  prompts: number;
  failures: number;
  timeouts: number;
  judge: string;
  promptSetVersion: string;
  updatedAt: Date;
}

/** One public benchmark score for a catalogue entry (family + size + variant), with its source. */
export interface BenchmarkRecord {
  id: number;
  /** Catalogue entry, e.g. "qwen2.5-coder-7b-instruct". */
  entry: string;
  benchmark: string;
  /** Score as published. */
  score: number;
  /** Score scaled to 0..1 for routing. */
  normalized: number;
  source: string;
  sourceUrl?: string | null;
  fetchedAt: Date;
}

/** Every routing decision, with its reasons, for Explain history, feedback and the dashboard. */
export interface DecisionRecord {
  id: number;
  responseId: string;
  requestId?: string | null;
  createdAt: Date;
  protocol: string;
  category: string;
  complexity: string;
  complexityScore: number;
  selectedModel?: string | null;
  qualityPreference: number;
  /** JSON: scored candidates and exclusions. */
  candidates: string;
  /** JSON: models tried in order with their outcome. */
  attempts: string;
  cache: string;
  status: string;
  latencyMs?: number | null;
}

/** A user's judgement of one answer (-1..1). */
export interface FeedbackRecord {
  id: number;
  responseId: string;
  modelKey: string;
  category: string;
  score: number;
  comment?: string | null;
  createdAt: Date;
}

export const ModelEntity = new EntitySchema<ModelRecord>({
  name: 'ModelRecord',
  tableName: 'models',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    key: { type: 'string', unique: true },
    backend: { type: 'string' },
    modelId: { type: 'string', fieldName: 'model_id' },
    family: { type: 'string', nullable: true },
    parameterCountB: { type: 'double', nullable: true, fieldName: 'parameter_count_b' },
    quantization: { type: 'string', nullable: true },
    contextLength: { type: 'integer', nullable: true, fieldName: 'context_length' },
    capabilities: { type: 'text' },
    sizeBytes: { type: 'bigint', nullable: true, fieldName: 'size_bytes', runtimeType: 'number' } as never,
    digest: { type: 'string', nullable: true },
    available: { type: 'boolean' },
    vramBytes: { type: 'bigint', nullable: true, fieldName: 'vram_bytes', runtimeType: 'number' } as never,
    vramMeasuredAt: { type: 'datetime', nullable: true, fieldName: 'vram_measured_at' },
    firstSeenAt: { type: 'datetime', fieldName: 'first_seen_at' },
    lastSeenAt: { type: 'datetime', fieldName: 'last_seen_at' },
  },
});

export const ProfileEntity = new EntitySchema<ProfileRecord>({
  name: 'ProfileRecord',
  tableName: 'profiles',
  uniques: [{ properties: ['modelKey', 'category'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    modelKey: { type: 'string', fieldName: 'model_key' },
    category: { type: 'string' },
    score: { type: 'double' },
    ttftMs: { type: 'double', nullable: true, fieldName: 'ttft_ms' },
    tokensPerSecond: { type: 'double', nullable: true, fieldName: 'tokens_per_second' },
    totalLatencyMs: { type: 'double', nullable: true, fieldName: 'total_latency_ms' },
    prompts: { type: 'integer' },
    failures: { type: 'integer' },
    timeouts: { type: 'integer' },
    judge: { type: 'string' },
    promptSetVersion: { type: 'string', fieldName: 'prompt_set_version' },
    updatedAt: { type: 'datetime', fieldName: 'updated_at' },
  },
});

export const BenchmarkEntity = new EntitySchema<BenchmarkRecord>({
  name: 'BenchmarkRecord',
  tableName: 'benchmark_scores',
  uniques: [{ properties: ['entry', 'benchmark', 'source'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    entry: { type: 'string' },
    benchmark: { type: 'string' },
    score: { type: 'double' },
    normalized: { type: 'double' },
    source: { type: 'string' },
    sourceUrl: { type: 'string', nullable: true, fieldName: 'source_url' },
    fetchedAt: { type: 'datetime', fieldName: 'fetched_at' },
  },
});

export const DecisionEntity = new EntitySchema<DecisionRecord>({
  name: 'DecisionRecord',
  tableName: 'routing_decisions',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    responseId: { type: 'string', unique: true, fieldName: 'response_id' },
    requestId: { type: 'string', nullable: true, fieldName: 'request_id' },
    createdAt: { type: 'datetime', fieldName: 'created_at' },
    protocol: { type: 'string' },
    category: { type: 'string' },
    complexity: { type: 'string' },
    complexityScore: { type: 'double', fieldName: 'complexity_score' },
    selectedModel: { type: 'string', nullable: true, fieldName: 'selected_model' },
    qualityPreference: { type: 'double', fieldName: 'quality_preference' },
    candidates: { type: 'text' },
    attempts: { type: 'text' },
    cache: { type: 'string' },
    status: { type: 'string' },
    latencyMs: { type: 'double', nullable: true, fieldName: 'latency_ms' },
  },
});

export const FeedbackEntity = new EntitySchema<FeedbackRecord>({
  name: 'FeedbackRecord',
  tableName: 'feedback',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    responseId: { type: 'string', fieldName: 'response_id' },
    modelKey: { type: 'string', fieldName: 'model_key' },
    category: { type: 'string' },
    score: { type: 'double' },
    comment: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', fieldName: 'created_at' },
  },
});

export const ENTITIES = [ModelEntity, ProfileEntity, BenchmarkEntity, DecisionEntity, FeedbackEntity];

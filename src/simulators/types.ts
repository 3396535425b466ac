/**
 * Public types of the backend simulators (Ollama, llama.cpp server / llama-swap / router mode, OpenAI).
 *
 * The simulators are product code: the test suite, `npm run demo` (try the router without a GPU) and
 * `npm run bench` all start them, so this surface is kept small and stable.
 */
import type { Category } from '../plugin-api/index.js';

export interface SimModel {
  /** e.g. "qwen2.5-coder:7b" (Ollama style) or "llama-3.1-8b-instruct". */
  id: string;
  /** "qwen2", "llama". Default: the letters the id starts with. */
  family?: string;
  /** Billions of parameters, e.g. 7.6. Default: read from the id ("…:7b", "…-8b-…"), else 7. */
  parameterSizeB?: number;
  /** Default "Q4_K_M". */
  quantization?: string;
  /** Default 8192. */
  contextLength?: number;
  /**
   * Default: chat only. `chat` defaults to `!embeddings`, so `{ embeddings: true }` alone describes an
   * embedding-only model (like nomic-embed-text) and `{ chat: true, embeddings: true }` does both.
   */
  capabilities?: { chat?: boolean; vision?: boolean; tools?: boolean; embeddings?: boolean; thinking?: boolean };
  /** 0..1 per category: shapes how good its answers are (default 0.5). */
  quality?: Partial<Record<Category, number>>;
  /** 0 = as fast as possible (default 0). */
  tokensPerSecond?: number;
  /** Delay before the first token, in ms (default 0). */
  firstTokenMs?: number;
  /** Default: derived from parameter count and quantisation. */
  sizeBytes?: number;
  /** sha256-style hex digest. Default: derived from the id. */
  digest?: string;
  /** Default 64. */
  embeddingDim?: number;
}

/**
 * Failure injection.
 * - reset: destroy the socket without answering.
 * - http500: 500 with the protocol's error body.
 * - html-error: 502 with an HTML page, like a reverse proxy in front of a dead backend.
 * - malformed: 200 with invalid JSON (non-stream), or one garbage line injected into a stream after the
 *   first token (the rest of the stream is then sent normally).
 * - cut-stream: stream a few tokens then destroy the socket without the final chunk (a non-streaming
 *   response is cut halfway through its body).
 * - slow-first-token: wait 5 s before the first byte, then answer normally.
 * - hang: never answer (until the client aborts or the simulator closes).
 * - overloaded: 429 (OpenAI, llama.cpp) or 503 (Ollama) with the protocol's error body and Retry-After.
 *
 * A global failure applies to every route (listing and health too: a broken server is broken);
 * a per-model failure applies to requests naming that model (body `model`, `?model=`, path).
 */
export type FailureMode =
  | 'none'
  | 'reset'
  | 'http500'
  | 'html-error'
  | 'malformed'
  | 'cut-stream'
  | 'slow-first-token'
  | 'hang'
  | 'overloaded';

export interface SimulatorOptions {
  models: SimModel[];
  /** Default 0 (a free port). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (llama.cpp: except /health). */
  apiKey?: string;
  failure?: FailureMode;
}

export interface RecordedRequest {
  method: string;
  /** The request target as received, query string included (e.g. "/props?model=x"). */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

export interface RunningSimulator {
  /** "http://127.0.0.1:PORT" (OpenAI simulator: the base URL WITHOUT /v1; clients add /v1). */
  url: string;
  /** Every request received, in order (the last 1000 only, so long benches do not grow memory). */
  requests: RecordedRequest[];
  /** Global failure, or only for one model. `setFailure('none')` (no model) also clears per-model ones. */
  setFailure(mode: FailureMode, model?: string): void;
  /** Models currently "in memory". */
  loaded(): string[];
  /** Closes the server and destroys open sockets (in-flight and hanging requests end at once). */
  close(): Promise<void>;
}

export type LlamaCppMode = 'single' | 'swap' | 'router';

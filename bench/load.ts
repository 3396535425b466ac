/**
 * The load generator: N keep-alive clients each sending chat completions back to back against one
 * target, recording total latency and time to first byte of the body (the first token for a
 * stream). Uses node:http directly so the generator's own cost stays small and equal for every target.
 */
import http from 'node:http';
import { summarize } from './stats.js';

export interface Target {
  name: string;
  /** Base URL without /v1. */
  url: string;
  /** The model to name in requests. */
  model: string;
  headers?: Record<string, string>;
}

export const BENCH_PROMPT = 'Write a Python function that returns the n-th Fibonacci number.';

export function requestBody(model: string, stream: boolean): string {
  return JSON.stringify({ model, stream, max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: BENCH_PROMPT }] });
}

interface Sample {
  totalMs: number;
  ttftMs: number;
}

interface Outcome {
  ok: boolean;
  sample: Sample;
  status: number;
  body?: string;
}

export class TargetClient {
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly headers: Record<string, string | number>;
  private readonly body: string;

  constructor(
    readonly target: Target,
    readonly stream: boolean,
    concurrency: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    this.url = new URL(`${target.url}/v1/chat/completions`);
    this.body = requestBody(target.model, stream);
    this.headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(this.body), ...target.headers };
  }

  /** One request; `keepBody` collects the body for validation (off on the hot path). */
  once(keepBody = false): Promise<Outcome> {
    return new Promise((resolve) => {
      const started = performance.now();
      let ttft = 0;
      let body = '';
      const req = http.request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: 'POST', headers: this.headers },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            if (!ttft) ttft = performance.now() - started;
            if (keepBody) body += chunk.toString();
          });
          res.on('end', () => {
            const totalMs = performance.now() - started;
            resolve({ ok: res.statusCode === 200, status: res.statusCode ?? 0, sample: { totalMs, ttftMs: ttft || totalMs }, body });
          });
          res.on('error', () => resolve({ ok: false, status: 0, sample: { totalMs: 0, ttftMs: 0 } }));
        },
      );
      req.on('error', (error) => resolve({ ok: false, status: 0, sample: { totalMs: 0, ttftMs: 0 }, body: error.message }));
      req.end(this.body);
    });
  }

  /**
   * Checks that the target answers this request properly (a real completion, not an error page with
   * status 200), so a broken target fails the bench loudly instead of producing a fast figure.
   */
  async validate(): Promise<void> {
    const out = await this.once(true);
    const where = `${this.target.name} (${this.stream ? 'streaming' : 'non-streaming'})`;
    if (!out.ok) throw new Error(`${where} answered HTTP ${out.status}: ${out.body?.slice(0, 300)}`);
    if (this.stream) {
      if (!out.body?.includes('"chat.completion.chunk"') || !out.body.includes('data: [DONE]')) {
        throw new Error(`${where} did not stream OpenAI chunks ending with [DONE]: ${out.body?.slice(0, 300)}`);
      }
    } else {
      let content: unknown;
      try {
        content = (JSON.parse(out.body ?? '') as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message?.content;
      } catch {
        // reported below
      }
      if (typeof content !== 'string' || !content) throw new Error(`${where} did not answer a chat completion: ${out.body?.slice(0, 300)}`);
    }
  }

  /** `concurrency` clients send requests back to back for `seconds`; returns the raw samples. */
  async run(concurrency: number, seconds: number): Promise<RunSamples> {
    const samples: Sample[] = [];
    const errors: Record<string, number> = {};
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const out = await this.once();
          if (out.ok) samples.push(out.sample);
          else errors[out.status || 'network'] = (errors[out.status || 'network'] ?? 0) + 1;
        }
      }),
    );
    return { samples, errors, elapsedS: (performance.now() - started) / 1000 };
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface RunSamples {
  samples: Sample[];
  /** Failed requests by HTTP status ("network" when no response came). */
  errors: Record<string, number>;
  elapsedS: number;
}

export interface LoadFigures {
  rps: number;
  /** Failed requests (not counted in rps or latency). */
  errors: number;
  /** The failures by HTTP status, "network" when no response came (e.g. {"503": 4}). */
  error_statuses: Record<string, number>;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  ttft_p50_ms: number;
  ttft_p99_ms: number;
}

/** Merges the rounds of one target into its figures: requests/s over the summed run time. */
export function figures(runs: RunSamples[]): LoadFigures {
  const samples = runs.flatMap((r) => r.samples);
  const elapsed = runs.reduce((a, r) => a + r.elapsedS, 0);
  const total = summarize(samples.map((s) => s.totalMs));
  const ttft = summarize(samples.map((s) => s.ttftMs));
  const errorStatuses: Record<string, number> = {};
  for (const run of runs) for (const [status, n] of Object.entries(run.errors)) errorStatuses[status] = (errorStatuses[status] ?? 0) + n;
  return {
    rps: samples.length / (elapsed || 1),
    errors: Object.values(errorStatuses).reduce((a, b) => a + b, 0),
    error_statuses: errorStatuses,
    requests: samples.length,
    p50_ms: total.p50,
    p99_ms: total.p99,
    ttft_p50_ms: ttft.p50,
    ttft_p99_ms: ttft.p99,
  };
}

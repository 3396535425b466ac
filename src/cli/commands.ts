/**
 * The CLI's commands. Each one is a thin call to a router RPC and a plain-text rendering of the
 * answer (or the raw message as JSON with --json), so the CLI never re-implements router logic.
 */
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { CacheScope, type Decision, GetVramResponseSchema, ListDecisionsResponseSchema, ListProfilesResponseSchema, InvalidateCacheResponseSchema, GetStatsResponseSchema } from '../../gen/smarterrouter/v1/admin_pb.js';
import { CacheKind, Category, Complexity } from '../../gen/smarterrouter/v1/common_pb.js';
import { CancelProfilingResponseSchema, GetStatusResponseSchema, ReprofileState } from '../../gen/smarterrouter/v1/profiler_pb.js';
import { ExplainResponseSchema, ListModelsResponseSchema, type ScoreFactors } from '../../gen/smarterrouter/v1/router_pb.js';
import type { Clients } from './client.js';
import { formatDuration, ProgressBar } from './progress.js';

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  json: boolean;
  signal: AbortSignal;
}

const enumName = (e: Record<number, string>, value: number, prefix: string) => (e[value] ?? String(value)).replace(prefix, '').toLowerCase();
const category = (c: Category) => enumName(Category, c, '');
const complexity = (c: Complexity) => enumName(Complexity, c, '');
const fixed = (n: number, digits = 3) => n.toFixed(digits);

function printJson<Desc extends DescMessage>(io: Io, schema: Desc, message: MessageShape<Desc>): void {
  io.out.write(`${JSON.stringify(toJson(schema, message), null, 2)}\n`);
}

function table(io: Io, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out.write(`${line(header)}\n${rows.map(line).join('\n')}${rows.length ? '\n' : ''}`);
}

export async function explain(c: Clients, io: Io, prompt: string, qualityPreference?: number): Promise<void> {
  const e = await c.router.explain({ input: { case: 'prompt', value: prompt }, qualityPreference }, { signal: io.signal });
  if (io.json) return printJson(io, ExplainResponseSchema, e);
  io.out.write(`${category(e.category)} / ${complexity(e.complexity)} (${fixed(e.complexityScore, 2)}) -> ${e.selectedModel || '(no model)'}\n`);
  const needs = [e.needs?.vision && 'vision', e.needs?.tools && 'tools', e.needs?.json && 'json'].filter(Boolean);
  if (needs.length) io.out.write(`needs: ${needs.join(', ')}\n`);
  // Every factor the answer carries, so the columns add up to the score. The weighted four are
  // always shown; the additive adjustments (feedback, size penalty, VRAM), which can take a total
  // below zero, get a column as soon as any candidate has a non-zero value for them.
  const shown = FACTOR_COLUMNS.filter((f) => f.always || e.candidates.some((x) => x.factors && x.factors[f.key] !== 0));
  table(
    io,
    ['model', 'score', ...shown.map((f) => f.header), 'note'],
    e.candidates.map((x) => [
      x.model,
      x.excluded ? '-' : fixed(x.totalScore),
      ...shown.map((f) => (x.factors ? fixed(x.factors[f.key]) : '')),
      x.excluded ? `excluded: ${x.excludedReason}` : '',
    ]),
  );
  if (shown.length < FACTOR_COLUMNS.length) {
    io.out.write(`(score = sum of the factor columns; ${FACTOR_COLUMNS.filter((f) => !shown.includes(f)).map((f) => f.header).join(', ')}: 0 for every model)\n`);
  }
}

type FactorKey = Exclude<keyof ScoreFactors, '$typeName' | '$unknown'>;

/**
 * ScoreFactors, in the order of the scoring formula (docs/routing.md). A Record, so a factor added
 * to the proto does not compile until it has a column here.
 */
const FACTOR_HEADERS: Record<FactorKey, { header: string; always: boolean }> = {
  capability: { header: 'capability', always: true },
  benchmark: { header: 'benchmark', always: true },
  speed: { header: 'speed', always: true },
  recency: { header: 'recency', always: true },
  feedback: { header: 'feedback', always: false },
  sizePenalty: { header: 'size penalty', always: false },
  vram: { header: 'vram', always: false },
};
const FACTOR_COLUMNS = (Object.entries(FACTOR_HEADERS) as Array<[FactorKey, { header: string; always: boolean }]>).map(([key, v]) => ({ key, ...v }));

export async function models(c: Clients, io: Io): Promise<void> {
  const r = await c.router.listModels({ includeUnavailable: true }, { signal: io.signal });
  if (io.json) return printJson(io, ListModelsResponseSchema, r);
  table(io, ['model', 'backend', 'size', 'available'], r.models.map((m) => [m.id, m.backend, m.parameterCountB ? `${m.parameterCountB}B` : '', m.available ? 'yes' : 'no']));
}

export async function profiles(c: Clients, io: Io, model?: string): Promise<void> {
  const r = await c.admin.listProfiles({ model: model ?? '', pageSize: 500 }, { signal: io.signal });
  if (io.json) return printJson(io, ListProfilesResponseSchema, r);
  const score = (p: (typeof r.profiles)[number], cat: Category) => {
    const s = p.scores.find((x) => x.category === cat);
    return s ? fixed(s.score, 2) : '';
  };
  table(
    io,
    ['model', 'coding', 'reasoning', 'creativity', 'general', 'tok/s', 'ttft ms', 'failures', 'vram GB'],
    r.profiles.map((p) => [
      p.model,
      score(p, Category.CODING),
      score(p, Category.REASONING),
      score(p, Category.CREATIVITY),
      score(p, Category.GENERAL),
      p.tokensPerSecond.toFixed(1),
      p.ttftMs.toFixed(0),
      String(p.failures + p.timeouts),
      p.vramBytes ? (Number(p.vramBytes) / 1024 ** 3).toFixed(2) : '',
    ]),
  );
}

/** Profiles again; returns how many models failed (the CLI then exits 1, like `npm run profile`). */
export async function reprofile(c: Clients, io: Io, options: { force: boolean; models: string[] }): Promise<number> {
  const bar = new ProgressBar(io.out);
  let finished = false;
  let failed = 0;
  for await (const p of c.profiler.reprofile({ force: options.force, models: options.models }, { signal: io.signal })) {
    if (p.state === ReprofileState.MODEL_FAILED) failed++;
    if (io.json) {
      io.out.write(`${JSON.stringify({ state: enumName(ReprofileState, p.state, 'REPROFILE_STATE_'), model: p.model, category: category(p.category), prompt: p.promptIndex, prompts: p.promptCount, model_index: p.modelIndex, models: p.modelCount, elapsed_seconds: p.elapsedSeconds, eta_seconds: p.etaSeconds ?? null, message: p.message })}\n`);
      continue;
    }
    if (p.state === ReprofileState.MODEL_SKIPPED || p.state === ReprofileState.MODEL_FAILED) {
      bar.log(`${p.state === ReprofileState.MODEL_FAILED ? 'failed' : 'skipped'}: ${p.model}${p.message ? ` (${p.message})` : ''}`);
    }
    if (p.state === ReprofileState.FINISHED) {
      finished = true;
      bar.end();
      io.out.write(`done: ${p.modelCount} model(s) in ${p.elapsedSeconds.toFixed(1)}s${p.message ? ` (${p.message})` : ''}\n`);
      continue;
    }
    // Overall progress: finished models plus the share of the current one.
    const perModel = p.promptCount > 0 ? p.promptIndex / p.promptCount : 0;
    const done = Math.max(0, p.modelIndex - 1) + (p.state === ReprofileState.MODEL_DONE ? 1 : perModel);
    bar.update({
      done,
      total: Math.max(1, p.modelCount),
      label: `${p.model || '...'} ${p.modelIndex}/${p.modelCount} ${p.category ? category(p.category) : ''} ${p.promptIndex}/${p.promptCount}`.replace(/\s+/g, ' '),
      elapsedSeconds: p.elapsedSeconds,
      etaSeconds: p.etaSeconds,
    });
  }
  if (!finished && !io.json) bar.end();
  return failed;
}

export async function vram(c: Clients, io: Io, watch: boolean): Promise<void> {
  if (watch) {
    for await (const s of c.admin.watchVram({}, { signal: io.signal })) {
      const gpus = s.gpus.map((g) => `gpu${g.index} ${g.usedGb.toFixed(1)}/${g.totalGb.toFixed(1)} GB (${g.utilizationPct.toFixed(0)}%)`).join('  ');
      const warnings = s.warnings.map((w) => `  ! ${w.message}`).join('');
      io.out.write(`${s.timestamp ? timestampDate(s.timestamp).toISOString() : ''}  ${gpus}${warnings}\n`);
    }
    return;
  }
  const r = await c.admin.getVram({}, { signal: io.signal });
  if (io.json) return printJson(io, GetVramResponseSchema, r);
  if (!r.monitoringEnabled) io.out.write('GPU monitoring: off (no nvidia-smi, or ROUTER_VRAM_MONITOR_ENABLED=false)\n');
  if (r.budgetGb) io.out.write(`budget: ${r.budgetGb.toFixed(1)} GB\n`);
  if (r.gpus.length) {
    table(io, ['gpu', 'name', 'used GB', 'total GB', 'free GB', 'use %'], r.gpus.map((g) => [String(g.index), g.name, g.usedGb.toFixed(1), g.totalGb.toFixed(1), g.freeGb.toFixed(1), g.utilizationPct.toFixed(0)]));
  }
  for (const w of r.warnings) io.out.write(`warning: ${w.message}\n`);
  io.out.write(r.loadedModels.length ? 'loaded models:\n' : 'no models loaded\n');
  if (r.loadedModels.length) {
    table(io, ['model', 'backend', 'vram GB', 'measured', 'pinned'], r.loadedModels.map((m) => [m.model, m.backend, (Number(m.vramBytes) / 1024 ** 3).toFixed(2), m.measured ? 'yes' : 'estimate', m.pinned ? 'yes' : '']));
  }
}

export const CACHE_SCOPES: Record<string, CacheScope> = {
  all: CacheScope.ALL,
  response: CacheScope.RESPONSE,
  routing: CacheScope.ROUTING,
  semantic: CacheScope.SEMANTIC,
};

export async function invalidateCache(c: Clients, io: Io, scope: CacheScope, model?: string): Promise<void> {
  const r = await c.admin.invalidateCache({ scope, model }, { signal: io.signal });
  if (io.json) return printJson(io, InvalidateCacheResponseSchema, r);
  io.out.write(`removed: ${r.responseRemoved} response, ${r.routingRemoved} routing, ${r.semanticRemoved} semantic\n`);
}

const CATEGORIES = [Category.CODING, Category.REASONING, Category.CREATIVITY, Category.GENERAL];

export async function profilingStatus(c: Clients, io: Io): Promise<void> {
  const r = await c.profiler.getStatus({}, { signal: io.signal });
  if (io.json) return printJson(io, GetStatusResponseSchema, r);
  const last = r.lastRunAt ? timestampDate(r.lastRunAt).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'never';
  io.out.write(r.running ? `profiling: ${r.currentModel || 'planning'}\n` : 'profiling: idle\n');
  if (r.queuedModels.length) io.out.write(`queued: ${r.queuedModels.join(', ')}\n`);
  io.out.write(`profiled since start-up: ${r.completedCount}; last run finished: ${last}; prompt set ${r.promptSetVersion}\n`);
}

export async function cancelProfiling(c: Clients, io: Io): Promise<void> {
  const r = await c.profiler.cancelProfiling({}, { signal: io.signal });
  if (io.json) return printJson(io, CancelProfilingResponseSchema, r);
  if (!r.cancelled) {
    io.out.write('nothing to cancel: no profiling run in progress\n');
    return;
  }
  io.out.write(`cancelled: ${r.models.join(', ') || 'the run'} (${r.profiledCount} model(s) had finished; answered prompts are kept)\n`);
}

export async function stats(c: Clients, io: Io): Promise<void> {
  const r = await c.admin.getStats({}, { signal: io.signal });
  if (io.json) return printJson(io, GetStatsResponseSchema, r);
  const since = r.startedAt ? ` (since ${timestampDate(r.startedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC)` : '';
  const errorShare = r.requestsTotal > 0n ? ` (${((Number(r.errorsTotal) / Number(r.requestsTotal)) * 100).toFixed(1)}%)` : '';
  io.out.write(`up ${formatDuration(r.uptimeSeconds)}${since}  requests ${r.requestsTotal}  errors ${r.errorsTotal}${errorShare}\n`);
  if (r.backends.length) {
    io.out.write('\nbackends:\n');
    table(io, ['backend', 'provider', 'health', 'check ms', 'message'], r.backends.map((b) => [b.name, b.provider, b.healthy ? 'ok' : 'down', b.latencyMs.toFixed(0), b.message]));
  }
  if (r.caches.length) {
    io.out.write('\ncaches:\n');
    table(
      io,
      ['cache', 'hits', 'misses', 'hit %', 'entries'],
      r.caches.map((k) => {
        const lookups = Number(k.hits + k.misses);
        return [enumName(CacheKind, k.kind, 'CACHE_KIND_'), String(k.hits), String(k.misses), lookups ? ((Number(k.hits) / lookups) * 100).toFixed(1) : '-', String(k.entries)];
      }),
    );
  }
  // One row per model, one column per category: where the router has been sending requests.
  const byModel = new Map<string, Map<Category, bigint>>();
  for (const s of r.selections) {
    const row = byModel.get(s.model) ?? new Map<Category, bigint>();
    row.set(s.category, (row.get(s.category) ?? 0n) + s.count);
    byModel.set(s.model, row);
  }
  io.out.write(byModel.size ? '\nrouted requests:\n' : '\nno requests routed yet\n');
  if (byModel.size) {
    const total = (row: Map<Category, bigint>) => [...row.values()].reduce((a, b) => a + b, 0n);
    const rows = [...byModel].sort((a, b) => Number(total(b[1]) - total(a[1])) || a[0].localeCompare(b[0]));
    table(io, ['model', ...CATEGORIES.map(category), 'total'], rows.map(([model, row]) => [model, ...CATEGORIES.map((cat) => String(row.get(cat) ?? 0n)), String(total(row))]));
  }
}

function decisionLine(d: Decision): string {
  const at = d.createdAt ? timestampDate(d.createdAt).toISOString().replace('T', ' ').slice(0, 19) : '';
  const attempts = d.attempts.length > 1 ? ` after ${d.attempts.length - 1} fallback(s)` : '';
  const cache = d.cache === 1 ? ' [cache hit]' : d.cache === 2 ? ' [semantic hit]' : '';
  return `${at}  ${category(d.category).padEnd(10)} ${complexity(d.complexity).padEnd(6)} -> ${(d.selectedModel || '(none)').padEnd(28)} ${d.status}${attempts}${cache}  ${d.latencyMs.toFixed(0)} ms  ${d.responseId}`;
}

export async function decisions(c: Clients, io: Io, options: { follow: boolean; limit: number; model?: string; category?: Category }): Promise<void> {
  const filter = { model: options.model ?? '', category: options.category ?? Category.UNSPECIFIED };
  const listed = await c.admin.listDecisions({ ...filter, limit: options.limit }, { signal: io.signal });
  if (io.json && !options.follow) return printJson(io, ListDecisionsResponseSchema, listed);
  // Oldest first, like `tail`.
  for (const d of [...listed.decisions].reverse()) io.out.write(`${decisionLine(d)}\n`);
  if (!options.follow) return;
  for await (const next of c.admin.watchDecisions(filter, { signal: io.signal })) {
    if (next.decision) io.out.write(`${decisionLine(next.decision)}\n`);
  }
}

/**
 * `npm run profile`: profiles the models of a RUNNING router and shows a live progress bar.
 *
 *   npm run profile                          # profile new or changed models (all chat models on first use)
 *   npm run profile -- --force               # profile every chat model again
 *   npm run profile -- --model qwen3:8b      # only these models (repeat --model)
 *   npm run profile -- --status              # what the profiler is doing, then exit
 *   npm run profile -- --url http://gpu-box:11436
 *
 * Why a client of the running router (ProfilerService.Reprofile over Connect) rather than a
 * standalone profiler: the router owns the GPU schedule and the SQLite file. A second process
 * profiling next to it would load a second model on the same GPU (timings measure the contention,
 * or the load fails) and write the same database concurrently; its results would also not reach the
 * router's in-memory routing knowledge until a restart. Through the router, the run takes the same
 * one-run-at-a-time lock as discovery and the REST trigger, and routing uses each profile at once.
 *
 * The URL defaults to http://127.0.0.1:$ROUTER_PORT (11436); ROUTER_ADMIN_API_KEY, when set, is sent
 * as the admin key. Exit code 0 when every model profiled, 1 when some failed, 2 on usage or
 * connection errors, 3 when another run is in progress.
 */
import { parseArgs } from 'node:util';
import { createClient, ConnectError, Code, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { ProfilerService, ReprofileState, type ReprofileResponse } from '../gen/smarterrouter/v1/profiler_pb.js';
import { Category } from '../gen/smarterrouter/v1/common_pb.js';

const USAGE = `usage: npm run profile -- [--url URL] [--force] [--model ID]... [--status]`;

function parse() {
  try {
    return parseArgs({
      options: {
        url: { type: 'string' },
        force: { type: 'boolean', default: false },
        model: { type: 'string', multiple: true, default: [] },
        status: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const CATEGORY_NAMES: Record<number, string> = {
  [Category.CODING]: 'coding',
  [Category.REASONING]: 'reasoning',
  [Category.CREATIVITY]: 'creativity',
  [Category.GENERAL]: 'general',
};

const seconds = (s: number): string => (s >= 90 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`);

/** Draws one progress line; on a terminal it is redrawn in place, elsewhere printed per model event. */
class ProgressBar {
  private readonly tty = Boolean(process.stdout.isTTY);
  private drawn = false;
  private done = 0;

  line(text: string): void {
    this.clear();
    process.stdout.write(`${text}\n`);
  }

  update(event: ReprofileResponse): void {
    const perModel = Math.max(1, event.promptCount);
    const total = Math.max(1, event.modelCount * perModel);
    const finished = this.done * perModel + (event.state === ReprofileState.PROMPT_DONE ? event.promptIndex : 0);
    const ratio = Math.min(1, finished / total);
    if (!this.tty) return;
    const width = Math.max(10, Math.min(40, (process.stdout.columns ?? 80) - 70));
    const full = Math.round(ratio * width);
    const bar = `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
    const model = event.model ? ` ${event.modelIndex}/${event.modelCount} ${event.model}` : '';
    const prompt = event.state === ReprofileState.PROMPT_DONE ? ` ${CATEGORY_NAMES[event.category] ?? ''} ${event.promptIndex}/${event.promptCount}` : '';
    const eta = event.etaSeconds === undefined ? '' : ` eta ${seconds(event.etaSeconds)}`;
    process.stdout.write(`\r\x1b[2K${bar} ${Math.round(ratio * 100)}%${model}${prompt} ${seconds(event.elapsedSeconds)}${eta}`);
    this.drawn = true;
  }

  modelFinished(): void {
    this.done++;
  }

  clear(): void {
    if (this.tty && this.drawn) process.stdout.write('\r\x1b[2K');
    this.drawn = false;
  }
}

async function main(): Promise<number> {
  const args = parse();
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const url = (args.url ?? `http://127.0.0.1:${process.env.ROUTER_PORT || '11436'}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url)) {
    process.stderr.write(`--url must be an http(s) URL, got ${JSON.stringify(url)}\n`);
    return 2;
  }
  const key = process.env.ROUTER_ADMIN_API_KEY;
  const auth: Interceptor = (next) => async (req) => {
    if (key) req.header.set('authorization', `Bearer ${key}`);
    return next(req);
  };
  const client = createClient(ProfilerService, createConnectTransport({ baseUrl: url, httpVersion: '1.1', interceptors: [auth] }));

  if (args.status) {
    const s = await client.getStatus({});
    process.stdout.write(
      [
        `running:            ${s.running}${s.currentModel ? ` (${s.currentModel})` : ''}`,
        `queued:             ${s.queuedModels.join(', ') || '-'}`,
        `completed:          ${s.completedCount} since the router started`,
        `prompt set version: ${s.promptSetVersion}`,
        `last run:           ${s.lastRunAt ? timestampDate(s.lastRunAt).toISOString() : 'never'}`,
      ].join('\n') + '\n',
    );
    return 0;
  }

  const abort = new AbortController();
  // Ctrl+C stops watching; the router finishes (or keeps) the run.
  process.once('SIGINT', () => abort.abort());
  const bar = new ProgressBar();
  let failed = 0;
  let finishedMessage = '';
  try {
    for await (const event of client.reprofile({ force: args.force, models: args.model }, { signal: abort.signal })) {
      switch (event.state) {
        case ReprofileState.STARTED:
          bar.line(`profiling ${event.modelCount} model(s) at ${url}, ${event.promptCount} prompts each (${event.message})`);
          break;
        case ReprofileState.MODEL_SKIPPED:
          bar.line(`  skipped ${event.model}: ${event.message}`);
          break;
        case ReprofileState.MODEL_DONE:
          bar.modelFinished();
          bar.line(`  done    ${event.model} (${event.modelIndex}/${event.modelCount}) ${event.message}`);
          break;
        case ReprofileState.MODEL_FAILED:
          failed++;
          bar.modelFinished();
          bar.line(`  failed  ${event.model} (${event.modelIndex}/${event.modelCount}): ${event.message}`);
          break;
        case ReprofileState.FINISHED:
          finishedMessage = event.message;
          break;
      }
      bar.update(event);
    }
  } catch (error) {
    bar.clear();
    if (abort.signal.aborted) {
      process.stdout.write('stopped watching; the router goes on with the run (npm run profile -- --status)\n');
      return 0;
    }
    const e = ConnectError.from(error);
    if (e.code === Code.Aborted) {
      process.stderr.write(`${e.rawMessage}\n`);
      return 3;
    }
    process.stderr.write(`profiling failed: ${e.code === Code.Unavailable ? `cannot reach the router at ${url} (${e.rawMessage})` : e.rawMessage}\n`);
    return 2;
  }
  bar.clear();
  process.stdout.write(`finished: ${finishedMessage}\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();

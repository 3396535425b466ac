/**
 * `smarterrouter` — the command line for a running router (over Connect, the same RPCs as every
 * other client). `npx smarterrouter help` lists the commands.
 */
import { parseArgs } from 'node:util';
import { Category } from '../../gen/smarterrouter/v1/common_pb.js';
import { connect, describeFailure, type ClientOptions } from './client.js';
import * as commands from './commands.js';

const USAGE = `usage: smarterrouter <command> [options]

commands:
  explain <prompt>            how the router would route a prompt (nothing is generated)
  models                      models the router knows, with availability
  profiles [--model M]        measured per-category scores, speed and VRAM per model
  reprofile [--force] [--model M ...]
                              profile models again, with a live progress bar
  profiling [cancel]          what profiling is doing; cancel stops the run in progress
  vram [--watch]              GPU memory, loaded models, warnings
  cache invalidate [--scope all|response|routing|semantic] [--model M]
                              empty the router's caches
  decisions [--follow] [--limit N] [--model M] [--category C]
                              recent routing decisions; --follow tails new ones
  stats                       request, selection, cache and backend statistics

exit codes: 0 done, 1 the router refused or failed (reprofile: a model failed), 2 bad usage

options:
  --url URL          router address (default $SMARTERROUTER_URL or http://localhost:11436)
  --admin-key KEY    admin key (default $ROUTER_ADMIN_API_KEY)
  --api-key KEY      client key for explain/models (default $ROUTER_API_KEY, else the first of
                     $ROUTER_API_KEYS, else the admin key, which the router accepts there too)
  --quality Q        explain: quality preference 0 (speed) .. 1 (quality)
  --json             machine-readable output
  -h, --help         this text
`;

const CATEGORY_NAMES: Record<string, Category> = {
  coding: Category.CODING,
  reasoning: Category.REASONING,
  creativity: Category.CREATIVITY,
  general: Category.GENERAL,
};

class UsageError extends Error {}

export async function main(argv: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; env: NodeJS.ProcessEnv }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'admin-key': { type: 'string' },
        'api-key': { type: 'string' },
        quality: { type: 'string' },
        json: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        model: { type: 'string', multiple: true },
        scope: { type: 'string' },
        follow: { type: 'boolean', short: 'f', default: false },
        watch: { type: 'boolean', short: 'w', default: false },
        limit: { type: 'string' },
        category: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err.write(`smarterrouter: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command || command === 'help') {
    io.out.write(USAGE);
    return command || values.help ? 0 : 2;
  }

  const options: ClientOptions = {
    url: (values.url ?? io.env.SMARTERROUTER_URL ?? 'http://localhost:11436').replace(/\/+$/, ''),
    adminKey: values['admin-key'] ?? io.env.ROUTER_ADMIN_API_KEY,
    apiKey: values['api-key'] ?? io.env.ROUTER_API_KEY ?? firstKey(io.env.ROUTER_API_KEYS),
  };
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const cio: commands.Io = { out: io.out as commands.Io['out'], json: values.json, signal: controller.signal };
  const model = values.model?.[0];

  try {
    if (!/^https?:\/\/[^/]+/.test(options.url)) throw new UsageError(`--url must be an http(s) URL, got "${options.url}"`);
    const clients = connect(options);
    switch (command) {
      case 'explain': {
        const prompt = rest.join(' ').trim();
        if (!prompt) throw new UsageError('explain needs a prompt: smarterrouter explain "write a haiku"');
        const quality = values.quality === undefined ? undefined : Number(values.quality);
        if (quality !== undefined && !(quality >= 0 && quality <= 1)) throw new UsageError('--quality must be a number from 0 to 1');
        await commands.explain(clients, cio, prompt, quality);
        break;
      }
      case 'models':
        await commands.models(clients, cio);
        break;
      case 'profiles':
        await commands.profiles(clients, cio, model);
        break;
      case 'reprofile':
        // A run with failed models is not a success for a script or a cron job.
        if ((await commands.reprofile(clients, cio, { force: values.force, models: values.model ?? [] })) > 0) return 1;
        break;
      case 'profiling':
        if (rest[0] === 'cancel') await commands.cancelProfiling(clients, cio);
        else if (rest[0] === undefined) await commands.profilingStatus(clients, cio);
        else throw new UsageError('usage: smarterrouter profiling [cancel]');
        break;
      case 'vram':
        await commands.vram(clients, cio, values.watch);
        break;
      case 'cache': {
        if (rest[0] !== 'invalidate') throw new UsageError('usage: smarterrouter cache invalidate [--scope all|response|routing|semantic] [--model M]');
        const scope = commands.CACHE_SCOPES[values.scope ?? 'all'];
        if (scope === undefined) throw new UsageError(`--scope must be one of ${Object.keys(commands.CACHE_SCOPES).join(', ')}`);
        await commands.invalidateCache(clients, cio, scope, model);
        break;
      }
      case 'decisions': {
        const limit = values.limit === undefined ? 20 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be an integer from 1 to 500');
        const category = values.category === undefined ? undefined : CATEGORY_NAMES[values.category];
        if (values.category !== undefined && category === undefined) throw new UsageError(`--category must be one of ${Object.keys(CATEGORY_NAMES).join(', ')}`);
        await commands.decisions(clients, cio, { follow: values.follow, limit, model, category });
        break;
      }
      case 'stats':
        await commands.stats(clients, cio);
        break;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`smarterrouter: ${error.message}\n`);
      return 2;
    }
    // Ctrl-C while following a stream is the normal way to stop.
    if (controller.signal.aborted) return 0;
    io.err.write(`smarterrouter: ${describeFailure(error, options)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** The first key of the router's own ROUTER_API_KEYS list (comma-separated), run on the router's host. */
function firstKey(list: string | undefined): string | undefined {
  return list?.split(',').map((k) => k.trim()).find((k) => k !== '');
}

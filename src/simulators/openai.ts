/**
 * OpenAI API simulator: GET /v1/models[/{id}], POST /v1/chat/completions, POST /v1/embeddings,
 * with Bearer auth when apiKey is set. `url` is the base WITHOUT /v1 (clients append it).
 * A hosted API has no load state: every model is always available, so loaded() lists them all.
 */
import { handleChatCompletions, handleEmbeddings, type CompatFlavour } from './openai-compat.js';
import { checkBearer, sendError, sendJson, startServer, type Exchange } from './server.js';
import type { RunningSimulator, SimulatorOptions } from './types.js';
import { resolveModel } from './util.js';

/** Stable "created" timestamp, as the real API reports when a model was published. */
const CREATED = 1_715_367_049;

export function startOpenAISimulator(o: SimulatorOptions): Promise<RunningSimulator> {
  const models = new Map(o.models.map((m) => [m.id, resolveModel(m)]));
  const modelObject = (id: string): Record<string, unknown> => ({ id, object: 'model', created: CREATED, owned_by: 'system' });

  const flavour: CompatFlavour = {
    style: 'openai',
    systemFingerprint: 'fp_sim0penai',
    reasoningField: 'reasoning_content',
    timings: false,
    resolve: (name) => (name === undefined ? undefined : models.get(name)),
    notFound(x, name) {
      sendError(x, 404, `The model \`${name ?? ''}\` does not exist or you do not have access to it.`, {
        type: 'invalid_request_error',
        code: 'model_not_found',
      });
    },
  };

  async function handle(x: Exchange): Promise<void> {
    if (!checkBearer(x, o.apiKey)) return;
    const { method, path } = x;
    if (method === 'GET' && path === '/v1/models') {
      sendJson(x, 200, { object: 'list', data: [...models.keys()].map(modelObject) });
      return;
    }
    if (method === 'GET' && path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (models.has(id)) sendJson(x, 200, modelObject(id));
      else flavour.notFound(x, id);
      return;
    }
    if (method === 'POST' && path === '/v1/chat/completions') return handleChatCompletions(x, flavour);
    if (method === 'POST' && path === '/v1/embeddings') return handleEmbeddings(x, flavour);
    sendError(x, 404, `Invalid URL (${method} ${path})`);
  }

  return startServer({
    options: o,
    styleFor: () => 'openai',
    canonical: (name) => name,
    handle,
    loaded: () => [...models.keys()],
  });
}

// @ts-check
/**
 * smarterrouter-backend-echo: a complete SmarterRouter backend plugin that answers by echoing the
 * last user message back, a few words per stream part.
 *
 * Plain ESM JavaScript with JSDoc types, so the router can import it from a file path or from
 * node_modules under plain Node, tsx and vitest alike, with no build step. The JSDoc `import()` types
 * are erased at run time: this file imports nothing from the router.
 */
import { EchoPluginError } from './errors.js';

/**
 * @typedef {import('../../../src/plugin-api/index.js').PluginDefinition<'backend'>} BackendDefinition
 * @typedef {import('../../../src/plugin-api/index.js').BackendPlugin} BackendPlugin
 * @typedef {import('../../../src/plugin-api/index.js').BackendModelInfo} BackendModelInfo
 * @typedef {import('../../../src/plugin-api/index.js').ChatRequest} ChatRequest
 * @typedef {import('../../../src/plugin-api/index.js').ChatMessage} ChatMessage
 * @typedef {import('../../../src/plugin-api/index.js').ChatStreamPart} ChatStreamPart
 * @typedef {import('../../../src/plugin-api/index.js').CallOptions} CallOptions
 * @typedef {import('../../../src/plugin-api/index.js').PluginOptions} PluginOptions
 * @typedef {import('../../../src/plugin-api/index.js').PluginContext} PluginContext
 * @typedef {import('../../../src/plugin-api/index.js').PluginErrorCode} PluginErrorCode
 * @typedef {import('../../../src/plugin-api/index.js').PluginError} PluginError
 */

/** Vector length of echo-embed when the request does not ask for another one. */
const DEFAULT_DIMENSIONS = 16;
/** Words per text-delta part: small, so even short answers stream in several parts. */
const WORDS_PER_PART = 2;

/** @type {readonly BackendModelInfo[]} */
const MODELS = [
  {
    id: 'echo-small',
    family: 'echo',
    parameterCountB: 0.5,
    quantization: 'F16',
    contextLength: 4096,
    sizeBytes: 1_000_000_000,
    digest: 'echo-small-1',
    capabilities: { chat: true, vision: false, tools: false, embeddings: false },
  },
  {
    id: 'echo-large',
    family: 'echo',
    parameterCountB: 7,
    quantization: 'Q4_K_M',
    contextLength: 32768,
    sizeBytes: 4_400_000_000,
    digest: 'echo-large-1',
    capabilities: { chat: true, vision: false, tools: false, embeddings: false },
  },
  {
    id: 'echo-embed',
    family: 'echo',
    parameterCountB: 0.1,
    contextLength: 2048,
    sizeBytes: 270_000_000,
    digest: 'echo-embed-1',
    capabilities: { chat: false, vision: false, tools: false, embeddings: true },
  },
];

/** @type {BackendDefinition} */
export const plugin = {
  manifest: {
    name: 'smarterrouter-backend-echo',
    version: '1.0.0',
    kind: 'backend',
    specificationVersion: 'v1',
    description: 'Echoes the last user message back; a template for third-party backends.',
  },
  create(options, context) {
    return createEchoBackend(options, context);
  },
};

export default plugin;

/**
 * Builds one backend instance. Options besides name/location: `delayMs` (number, default 0), a pause
 * before each stream part, so tests can abort a generation while it runs.
 *
 * @param {PluginOptions} options
 * @param {PluginContext} context
 * @returns {BackendPlugin}
 */
export function createEchoBackend(options, context) {
  if (typeof options.name !== 'string' || options.name === '') {
    throw new EchoPluginError({ code: 'bad_request', message: 'options.name is required' });
  }
  const name = options.name;
  const delayMs = typeof options.delayMs === 'number' && options.delayMs > 0 ? options.delayMs : 0;
  /** Models "in memory": echo keeps the bookkeeping so load/unload/loadedModels behave like a real server. */
  const loaded = new Map();

  /**
   * @param {PluginErrorCode} code
   * @param {string} message
   * @param {string} [model]
   */
  const fail = (code, message, model) => new EchoPluginError({ code, message, backend: name, model });

  /**
   * @param {string} id
   * @param {'chat' | 'embeddings'} need
   */
  const modelFor = (id, need) => {
    const model = MODELS.find((m) => m.id === id);
    if (!model) throw fail('not_found', `model "${id}" not found (available: ${MODELS.map((m) => m.id).join(', ')})`, id);
    if (!model.capabilities[need]) throw fail('unsupported', `model "${id}" does not support ${need}`, id);
    return model;
  };

  /** @param {AbortSignal} signal @param {string} [model] */
  const checkAborted = (signal, model) => {
    if (signal.aborted) throw new EchoPluginError({ code: 'aborted', message: 'request aborted', retryable: false, backend: name, model, cause: signal.reason });
  };

  /** @param {string} id */
  const markLoaded = (id) => {
    const model = MODELS.find((m) => m.id === id);
    loaded.set(id, { id, sizeBytes: model?.sizeBytes ?? 0, vramBytes: 0 });
  };

  /** @type {BackendPlugin} */
  const backend = {
    specificationVersion: 'v1',
    name,
    provider: 'echo',
    capabilities: { loadedModels: true, load: true, unload: true, embeddings: true },

    async listModels({ signal }) {
      checkAborted(signal);
      // Copies, so a caller that mutates the list cannot change what the next call returns.
      return MODELS.map((m) => ({ ...m, capabilities: { ...m.capabilities } }));
    },

    chat(request, { signal }) {
      // Validation happens before the generator starts, so a bad request throws from chat() itself
      // (the contract allows either that or rejecting on the first next()).
      modelFor(request.model, 'chat');
      return streamEcho(request, signal);
    },

    async embed(request, { signal }) {
      checkAborted(signal, request.model);
      modelFor(request.model, 'embeddings');
      const dimensions = request.dimensions ?? DEFAULT_DIMENSIONS;
      if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) {
        throw fail('bad_request', `dimensions must be an integer from 1 to 4096, got ${dimensions}`, request.model);
      }
      markLoaded(request.model);
      return {
        embeddings: request.input.map((text) => embedText(text, dimensions)),
        usage: { promptTokens: request.input.reduce((n, text) => n + words(text).length, 0) },
      };
    },

    async loadedModels({ signal }) {
      checkAborted(signal);
      return [...loaded.values()].map((m) => ({ ...m }));
    },

    async load(model, { signal }) {
      checkAborted(signal, model);
      if (!MODELS.some((m) => m.id === model)) throw fail('not_found', `model "${model}" not found`, model);
      markLoaded(model);
      return true;
    },

    async unload(model, { signal }) {
      checkAborted(signal, model);
      loaded.delete(model);
      return true;
    },

    async health() {
      const started = performance.now();
      // Nothing to reach: echo is healthy whenever the process is.
      return { ok: true, latencyMs: performance.now() - started };
    },

    async dispose() {
      loaded.clear();
    },
  };

  /**
   * @param {ChatRequest} request
   * @param {AbortSignal} signal
   * @returns {AsyncGenerator<ChatStreamPart>}
   */
  async function* streamEcho(request, signal) {
    checkAborted(signal, request.model);
    markLoaded(request.model);
    const answer = lastUserText(request.messages) || '(nothing to echo)';
    let tokens = words(answer);
    let finishReason = /** @type {'stop' | 'length'} */ ('stop');

    const stopAt = firstStop(answer, request.stop ?? []);
    if (stopAt >= 0) tokens = words(answer.slice(0, stopAt));
    if (request.maxTokens !== undefined && tokens.length > request.maxTokens) {
      tokens = tokens.slice(0, Math.max(0, request.maxTokens));
      finishReason = 'length';
    }

    const promptTokens = request.messages.reduce((n, m) => n + words(textOf(m)).length, 0);
    let sent = 0;
    while (sent < tokens.length) {
      if (delayMs) await sleep(delayMs, signal);
      if (signal.aborted) {
        // After the first part, failures travel as an error part (contract rule), not as a throw.
        if (sent === 0) checkAborted(signal, request.model);
        yield { type: 'error', error: asContractError(fail('aborted', 'request aborted', request.model)) };
        return;
      }
      const chunk = tokens.slice(sent, sent + WORDS_PER_PART);
      yield { type: 'text-delta', delta: (sent === 0 ? '' : ' ') + chunk.join(' ') };
      sent += chunk.length;
    }
    yield { type: 'finish', finishReason, usage: { promptTokens, completionTokens: sent } };
  }

  context.logger.debug({ backend: name, plugin: plugin.manifest.name }, 'echo backend created');
  return backend;
}

/**
 * Types an EchoPluginError as the contract's PluginError. At run time they are the same thing to the
 * router (same Symbol.for mark, same fields); only the type checker cannot see that the mark of one
 * copy is the mark of another, because TypeScript types each `unique symbol` per declaration.
 * @param {EchoPluginError} error
 * @returns {PluginError}
 */
function asContractError(error) {
  return /** @type {PluginError} */ (/** @type {unknown} */ (error));
}

/** @param {ChatMessage[]} messages */
function lastUserText(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return textOf(messages[i]).trim();
  }
  return '';
}

/** @param {ChatMessage} message */
function textOf(message) {
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => (part.type === 'text' ? part.text : '')).join(' ');
}

/** Echo's "tokens" are whitespace-separated words: simple, and stable across runs. @param {string} text */
function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

/** @param {string} text @param {string[]} stops */
function firstStop(text, stops) {
  let at = -1;
  for (const stop of stops) {
    if (!stop) continue;
    const i = text.indexOf(stop);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/**
 * Deterministic bag-of-words vector: each word is hashed (FNV-1a) into a bucket with a sign, then the
 * vector is L2-normalised. Equal texts give equal vectors and texts sharing words are close, which is
 * what the router's semantic cache needs to be testable.
 * @param {string} text
 * @param {number} dimensions
 */
function embedText(text, dimensions) {
  const vector = new Array(dimensions).fill(0);
  for (const word of words(text.toLowerCase())) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) {
      hash ^= word.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    vector[hash % dimensions] += hash & 0x80000000 ? -1 : 1;
  }
  const norm = Math.hypot(...vector);
  // An empty text has no words: return a fixed unit vector rather than NaNs.
  if (norm === 0) return vector.map((_, i) => (i === 0 ? 1 : 0));
  return vector.map((v) => v / norm);
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

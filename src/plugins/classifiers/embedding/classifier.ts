/**
 * The embedding classifier: embeds the conversation with the router's embedding model, finds the
 * nearest labelled exemplars (the built-in classifier's training corpus) and blends their vote with
 * the built-in classifier's probabilities.
 *
 * It never fails or holds up a request: until the exemplars are embedded (in the background, once,
 * then read from disk on later starts), when the embedding call fails, or when it takes longer than
 * the budget, classify() returns null and the built-in classifier, asked next, decides alone.
 */
import { SPECIFICATION_VERSION, type Classification, type ClassificationInput, type ClassifierPlugin, type PluginLogger } from '../../../plugin-api/index.js';
import { classify as builtinClassify } from '../builtin/classify.js';
import { blend } from './blend.js';
import { loadExemplars, type ExemplarSet } from './exemplars.js';
import { DEFAULT_K, ExemplarIndex, normalise, type KnnResult } from './knn.js';
import { embeddingText } from './text.js';
import { readVectors, writeVectors, type VectorsKey } from './vectors-file.js';
import { untilAborted } from '../../../core/abortable.js';

export const EMBEDDING_CLASSIFIER_NAME = 'embedding';

/** Embeds texts, one vector per text in order (the router's Embedder, ROUTER_EMBED_MODEL). */
export type EmbedTexts = (texts: string[], signal: AbortSignal) => Promise<number[][]>;

export interface EmbeddingClassifierSettings {
  embed: EmbedTexts;
  /** The embedding model's name: part of the key of the stored vectors. */
  model: string;
  /** Where the embedded exemplars are kept across restarts. */
  file: string;
  /** Longest a request waits for its embedding before the built-in decides alone. */
  timeoutMs: number;
  /** Share of the nearest-exemplar vote in the blend, 0..1. */
  weight: number;
  k?: number;
  /** Exemplars per embedding call while warming up. */
  batchSize?: number;
  /** First pause after a failed warm-up call; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Aborted when the router shuts down. */
  signal: AbortSignal;
  logger: PluginLogger;
}

export type WarmState = 'warming' | 'ready' | 'stopped';

export interface EmbeddingClassifier extends ClassifierPlugin {
  /** Where the exemplars are: still being embedded, ready, or given up (shut down). */
  state(): WarmState;
  /** Resolves when the exemplars are ready (or warm-up stopped). */
  ready(): Promise<void>;
  dispose(): Promise<void>;
}

const DEFAULT_BATCH = 64;

export function createEmbeddingClassifier(settings: EmbeddingClassifierSettings): EmbeddingClassifier {
  const { logger } = settings;
  const batchSize = settings.batchSize ?? DEFAULT_BATCH;
  const stop = new AbortController();
  const onShutdown = () => stop.abort(settings.signal.reason);
  settings.signal.addEventListener('abort', onShutdown, { once: true });
  if (settings.signal.aborted) stop.abort(settings.signal.reason);

  let index: ExemplarIndex | undefined;
  let state: WarmState = 'warming';
  // Logged once per cause, not once per request: a dead embedding backend would flood the log.
  let lastFailure = '';
  let warming: Promise<void> = warm(false);

  async function warm(ignoreFile: boolean): Promise<void> {
    try {
      const set = await loadExemplars();
      const key: VectorsKey = { model: settings.model, corpusHash: set.hash, count: set.exemplars.length };
      const labels = Uint8Array.from(set.exemplars, (e) => e.label);
      if (!ignoreFile) {
        const stored = await readVectors(settings.file, key);
        const fromFile = 'vectors' in stored ? exemplarIndex(stored.vectors, stored.dims, labels) : stored.missing;
        if (fromFile instanceof ExemplarIndex) {
          index = fromFile;
          state = 'ready';
          logger.info({ exemplars: set.exemplars.length, dims: fromFile.dims, file: settings.file }, 'embedding classifier: exemplar vectors read from disk');
          return;
        }
        logger.info({ file: settings.file, reason: fromFile }, 'embedding classifier: embedding the exemplars in the background');
      }
      const started = Date.now();
      const vectors = await embedAll(set);
      if (!vectors) return;
      // Stored before use, so "classifying with them" always means "kept for the next start" (or logged why not).
      await writeVectors(settings.file, key, vectors).catch((error: unknown) =>
        logger.warn({ file: settings.file, err: (error as Error).message }, 'embedding classifier: cannot store the exemplar vectors; they will be embedded again on the next start'),
      );
      index = new ExemplarIndex(vectors.vectors, vectors.dims, labels);
      state = 'ready';
      logger.info(
        { exemplars: set.exemplars.length, dims: vectors.dims, seconds: Math.round((Date.now() - started) / 100) / 10, file: settings.file },
        'embedding classifier: exemplars embedded; classifying with them from now on',
      );
    } catch (error) {
      if (stop.signal.aborted) return;
      // A bug here must not take the router down: the built-in classifier keeps deciding.
      logger.error({ err: (error as Error).message }, 'embedding classifier: warm-up failed; the built-in classifier decides alone');
    } finally {
      if (!index) state = 'stopped';
    }
  }

  /** Embeds every exemplar in batches, retrying a failed batch with backoff until shut down. */
  async function embedAll(set: ExemplarSet): Promise<{ dims: number; vectors: Float32Array } | undefined> {
    let dims = 0;
    let vectors = new Float32Array(0);
    let pause = settings.retryMs ?? 1000;
    let failures = 0;
    for (let from = 0; from < set.exemplars.length; ) {
      if (stop.signal.aborted) return undefined;
      const batch = set.exemplars.slice(from, from + batchSize).map((e) => e.text);
      let embedded: number[][];
      try {
        embedded = await settings.embed(batch, stop.signal);
        if (embedded.length !== batch.length) throw new Error(`${embedded.length} vectors for ${batch.length} texts`);
        if (dims === 0) {
          dims = embedded[0]?.length ?? 0;
          if (dims === 0) throw new Error('the embedding model returned empty vectors');
          vectors = new Float32Array(dims * set.exemplars.length);
        }
        for (let i = 0; i < embedded.length; i++) {
          const row = vectorOf(embedded[i]!, dims);
          if (!row) throw new Error(`a vector that is not ${dims} finite numbers, or has zero length`);
          vectors.set(row, (from + i) * dims);
        }
      } catch (error) {
        if (stop.signal.aborted) return undefined;
        failures++;
        // At start-up the embedding model is usually not listed yet (discovery runs alongside): the
        // first failures are expected and only logged at debug; a lasting one (a wrong model name, a
        // dead backend) becomes a warning at the fourth try (about 7 s in), then every tenth.
        const line = { err: (error as Error).message, retryInSeconds: pause / 1000, done: from, of: set.exemplars.length };
        if (failures === 4 || (failures > 4 && failures % 10 === 0)) logger.warn(line, 'embedding classifier: embedding exemplars keeps failing; retrying');
        else logger.debug(line, 'embedding classifier: embedding exemplars failed; retrying');
        await sleep(pause, stop.signal);
        pause = Math.min(pause * 2, settings.maxRetryMs ?? 60_000);
        continue;
      }
      from += batch.length;
    }
    return { dims, vectors };
  }

  async function classify(input: ClassificationInput, options: { signal: AbortSignal }): Promise<Classification | null> {
    const current = index;
    if (!current || state !== 'ready') return null;
    const text = embeddingText(input);
    if (!text.trim()) return null;
    const signal = AbortSignal.any([options.signal, stop.signal, AbortSignal.timeout(settings.timeoutMs)]);
    let query: Float32Array | undefined;
    try {
      const [vector] = await untilAborted(settings.embed([text], signal), signal, () => abortError(signal)); // an embedding that ignores its signal still costs no more than the budget
      query = vector ? vectorOf(vector, vector.length) : undefined;
      if (!query) throw new Error('the embedding model returned an empty or non-finite vector');
    } catch (error) {
      note(`embedding failed: ${(error as Error).message}`);
      return null;
    }
    if (query.length !== current.dims) {
      // The model behind ROUTER_EMBED_MODEL changed (same name, other vectors): embed the exemplars again.
      note(`the embedding model now returns ${query.length} dimensions, the stored exemplars have ${current.dims}; embedding them again`);
      if (index === current) {
        index = undefined;
        state = 'warming';
        warming = warm(true);
      }
      return null;
    }
    let knn: KnnResult;
    try {
      knn = await current.classify(query, settings.k ?? DEFAULT_K);
    } catch (error) {
      // Only after dispose() closed the index under a request in flight; the built-in decides.
      note(`nearest-exemplar search failed: ${(error as Error).message}`);
      return null;
    }
    lastFailure = '';
    return blend(builtinClassify(input), knn.probabilities, settings.weight);
  }

  function note(failure: string): void {
    if (failure === lastFailure) return;
    lastFailure = failure;
    logger.warn({ reason: failure }, 'embedding classifier: deferring to the built-in classifier');
  }

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: EMBEDDING_CLASSIFIER_NAME,
    classify,
    state: () => state,
    ready: () => warming,
    async dispose() {
      settings.signal.removeEventListener('abort', onShutdown);
      stop.abort(new Error('embedding classifier disposed'));
      await warming;
      await index?.close();
    },
  };
}

/** A finite, non-zero vector of `dims` numbers as a normalised Float32Array, or undefined. */
function vectorOf(values: readonly number[], dims: number): Float32Array | undefined {
  if (!Array.isArray(values) || values.length !== dims) return undefined;
  const row = Float32Array.from(values);
  return normalise(row) ? row : undefined;
}

/** The index over stored vectors, or why they cannot be used (a row of non-finite numbers or zero length: a damaged file). */
function exemplarIndex(vectors: Float32Array, dims: number, labels: Uint8Array): ExemplarIndex | string {
  try {
    return new ExemplarIndex(vectors, dims, labels);
  } catch (error) {
    return `unusable vectors (${(error as Error).message})`;
  }
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  return new Error(reason?.name === 'TimeoutError' ? 'timed out' : `aborted (${reason?.message ?? 'request ended'})`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

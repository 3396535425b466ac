/**
 * ROUTER_CLASSIFIER_EMBEDDINGS* -> the embedding classifier, wired to the router's one Embedder
 * (ROUTER_EMBED_MODEL). Kept here so src/server/wiring.ts needs two lines: a check before anything
 * is built, and the creation once the embedder exists.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, type Config } from '../../../config/index.js';
import type { Embedder } from '../../../core/cache/embedder.js';
import { dialectOf, type Database } from '../../../db/index.js';
import type { ClassifierPlugin, PluginContext } from '../../../plugin-api/index.js';
import { embeddingClassifierDefinition, type EmbeddingClassifierOptions } from './index.js';

export const VECTORS_FILE_NAME = 'classifier-embeddings.bin';

/** Throws a ConfigError naming the variable when the settings do not fit together. */
export function checkEmbeddingClassifierConfig(config: Config): void {
  if (!config.classifierEmbeddings) return;
  if (!config.embedModel) {
    throw new ConfigError(
      'ROUTER_CLASSIFIER_EMBEDDINGS',
      'needs ROUTER_EMBED_MODEL, the embedding model whose vectors it compares (e.g. ROUTER_EMBED_MODEL=nomic-embed-text:latest)',
    );
  }
}

/** ROUTER_CLASSIFIER_EMBEDDINGS_FILE, or the file next to the SQLite database (./data with PostgreSQL). */
export function vectorsFilePath(config: Config, db: Database, cwd = process.cwd()): string {
  const configured = config.classifierEmbeddingsFile;
  if (configured) return isAbsolute(configured) ? configured : resolve(cwd, configured);
  if (dialectOf(db) === 'sqlite') {
    const dbName = db.config.get('dbName');
    if (typeof dbName === 'string' && dbName && dbName !== ':memory:') return join(dirname(resolve(cwd, dbName)), VECTORS_FILE_NAME);
  }
  return resolve(cwd, 'data', VECTORS_FILE_NAME);
}

/** The embedding classifier when ROUTER_CLASSIFIER_EMBEDDINGS is on, else undefined. */
export async function embeddingClassifierFromConfig(
  config: Config,
  deps: { embedder: Embedder; db: Database; context: PluginContext },
): Promise<ClassifierPlugin | undefined> {
  if (!config.classifierEmbeddings) return undefined;
  checkEmbeddingClassifierConfig(config);
  const { embedder } = deps;
  const options: EmbeddingClassifierOptions = {
    name: embeddingClassifierDefinition.manifest.name,
    // '' = the router's embedding model, ROUTER_EMBED_MODEL (the Embedder's errors name it when it is wrong).
    // One text (a request) may already be embedded by the semantic cache: embedText reuses it.
    embed: async (texts, signal) =>
      texts.length === 1 ? [await embedder.embedText('', texts[0]!, signal)] : (await embedder.embed({ model: '', input: texts }, signal)).embeddings,
    model: config.embedModel!,
    file: vectorsFilePath(config, deps.db),
    timeoutMs: config.classifierEmbeddingsTimeoutMs,
    weight: config.classifierEmbeddingsWeight,
  };
  return embeddingClassifierDefinition.create(options, deps.context) as ClassifierPlugin;
}

/**
 * Semantic-cache entries shared between replicas through one Redis stream per embedding model.
 * Every replica appends the entries it stores and the invalidations it runs; every replica reads
 * the stream and adds the others' entries to its OWN vector index (SemanticCache.applyRemote). The
 * answers themselves are not in the stream: the shared response cache holds them.
 *
 * Why a stream and not pub/sub with a hash: a stream is an ordered log that a reader resumes from
 * the last id it saw, so one mechanism serves live updates, a replica that starts later (it reads
 * the entries younger than the TTL) and one that lost its connection, and adds and invalidations
 * replay in the order they happened. Pub/sub loses what is sent while a replica is away, and a
 * hash plus pub/sub needs a snapshot-then-subscribe dance that races with invalidations.
 *
 * Bounds: XADD trims the stream to the cache's size (ROUTER_CACHE_RESPONSE_MAX_SIZE, the local
 * LRU's bound: a replica never needs more to rebuild its cache), an "invalidate all" trims
 * everything older than itself, and the key expires a TTL after the last write. A replica whose
 * read failed (Redis away) starts afresh when it is back: clears its entries and replays the
 * stream, so an invalidation it missed (maybe trimmed since) cannot leave a stale entry behind.
 */
import type { Redis } from 'ioredis';
import type { CachedAnswer } from '../../core/cache/answer.js';
import type { SemanticChange, SemanticPeers } from '../../core/cache/semantic-cache.js';

/** What the stream feeds (SemanticCache). */
export interface SemanticSink {
  applyRemote(change: SemanticChange, expiresAt?: number): void;
}

export interface SemanticStreamOptions {
  /** Commands: appends, the server clock. */
  redis: Redis;
  /** Its own connection: a blocking read holds it (command timeout above `blockMs`). */
  reader: Redis;
  key: string;
  /** This replica's id: its own changes are already applied here. */
  origin: string;
  /** Entries kept in the stream (the cache's size). */
  maxEntries: number;
  ttlMs: number;
  sink: SemanticSink;
  /** The shared response cache's lookup: where a shared entry's answer is. */
  answer: (id: string) => Promise<CachedAnswer | undefined>;
  /** Longest blocking read; the loop also notices close() within it. */
  blockMs?: number;
  /** Wait between attempts while Redis is away. */
  retryMs?: number;
  onError?: (error: unknown, during: 'publish' | 'read') => void;
  /** Called when reading works again after a failure (and after catching up). */
  onRecovered?: () => void;
}

interface Wire {
  o: string;
  t: 'add' | 'inv';
  id?: string;
  p?: string;
  m?: string;
  /** float32 little-endian, base64 (a third of the JSON size of the numbers). */
  v?: string;
}

const READ_BATCH = 500;

export class SemanticStream implements SemanticPeers {
  private lastId = '0-0';
  /** Redis clock minus ours, measured when catching up (stream ids carry Redis's time). */
  private clockOffset = 0;
  private closed = false;
  private loop: Promise<void> | undefined;
  /** Publishing failed last time: the next failure of this outage is not reported again. */
  private publishFailing = false;

  constructor(private readonly options: SemanticStreamOptions) {}

  /** Catches up with the entries younger than the TTL, then follows the stream in the background. */
  async start(): Promise<void> {
    let synced = false;
    try {
      await this.catchUp();
      synced = true;
    } catch (error) {
      this.options.onError?.(error, 'read');
    }
    this.loop = this.follow(!synced);
  }

  publish(change: SemanticChange): void {
    const { redis, key } = this.options;
    const o = this.options.origin;
    const wire: Wire =
      change.type === 'add'
        ? { o, t: 'add', id: change.entry.id, p: change.entry.partition, m: change.entry.model, v: encodeVector(change.entry.vector) }
        : { o, t: 'inv', ...(change.model !== undefined ? { m: change.model } : {}) };
    redis
      .multi()
      .xadd(key, 'MAXLEN', String(this.options.maxEntries), '*', 'c', JSON.stringify(wire))
      .pexpire(key, this.options.ttlMs)
      .exec()
      .then(async (results) => {
        const failed = results?.find(([error]) => error)?.[0];
        if (failed) throw failed;
        // Nothing before an "invalidate all" can matter to anyone: a reader resuming before it replays the clear.
        const id = results?.[0]?.[1];
        if (change.type === 'invalidate' && change.model === undefined && typeof id === 'string') await redis.xtrim(key, 'MINID', id);
        this.publishFailing = false;
      })
      .catch((error: unknown) => {
        if (!this.publishFailing) this.options.onError?.(error, 'publish');
        this.publishFailing = true;
      });
  }

  answer(id: string): Promise<CachedAnswer | undefined> {
    return this.options.answer(id);
  }

  online(): boolean {
    return this.options.redis.status === 'ready';
  }

  /** Stops following (the reader connection is closed: a blocking read in flight ends at once). */
  async close(): Promise<void> {
    this.closed = true;
    this.options.reader.disconnect();
    await this.loop;
  }

  /** Clears this replica's entries and replays the stream's live part (own changes included). */
  private async catchUp(): Promise<void> {
    const [seconds, micros] = (await this.options.redis.time()).map(Number) as [number, number];
    const redisNow = seconds * 1000 + Math.floor(micros / 1000);
    this.clockOffset = redisNow - Date.now();
    this.options.sink.applyRemote({ type: 'invalidate' });
    this.lastId = `${Math.max(0, redisNow - this.options.ttlMs)}-0`;
    for (;;) {
      const read = await this.read(undefined);
      this.apply(read, true);
      if (read.length < READ_BATCH) return;
    }
  }

  private async follow(mustSync: boolean): Promise<void> {
    let failing = mustSync;
    while (!this.closed) {
      try {
        if (failing) {
          await this.catchUp();
          failing = false;
          this.options.onRecovered?.();
        }
        this.apply(await this.read(this.options.blockMs ?? 2000), false);
      } catch (error) {
        if (this.closed) return;
        // One report per outage; the loop retries until Redis is back, then catches up.
        if (!failing) this.options.onError?.(error, 'read');
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000).unref());
      }
    }
  }

  /** The next entries after lastId (blocking up to `blockMs` when given). */
  private async read(blockMs: number | undefined): Promise<Array<[string, string[]]>> {
    const { reader, key } = this.options;
    const reply =
      blockMs === undefined
        ? await reader.xread('COUNT', READ_BATCH, 'STREAMS', key, this.lastId)
        : await reader.xread('COUNT', READ_BATCH, 'BLOCK', blockMs, 'STREAMS', key, this.lastId);
    return reply?.[0]?.[1] ?? [];
  }

  private apply(entries: Array<[string, string[]]>, includeOwn: boolean): void {
    for (const [id, fields] of entries) {
      this.lastId = id;
      const wire = parse(fields);
      if (!wire || (!includeOwn && wire.o === this.options.origin)) continue;
      if (wire.t === 'inv') {
        this.options.sink.applyRemote(wire.m === undefined ? { type: 'invalidate' } : { type: 'invalidate', model: wire.m });
        continue;
      }
      const vector = decodeVector(wire.v!);
      if (!vector) continue;
      // The id's first part is Redis's clock when the entry was written.
      const expiresAt = Number(id.split('-')[0]) - this.clockOffset + this.options.ttlMs;
      this.options.sink.applyRemote({ type: 'add', entry: { id: wire.id!, partition: wire.p!, model: wire.m!, vector } }, expiresAt);
    }
  }
}

function encodeVector(vector: ArrayLike<number>): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

function decodeVector(text: string): Float32Array | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  // Copied out of the Buffer pool, whose offsets need not be 4-aligned.
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

/** An entry another version wrote, or garbage, is skipped. */
function parse(fields: string[]): Wire | undefined {
  const at = fields.indexOf('c');
  if (at < 0 || at % 2 !== 0) return undefined;
  try {
    const wire = JSON.parse(fields[at + 1]!) as Wire;
    if (typeof wire?.o !== 'string') return undefined;
    if (wire.t === 'inv') return wire.m === undefined || typeof wire.m === 'string' ? wire : undefined;
    const ok = wire.t === 'add' && typeof wire.id === 'string' && typeof wire.p === 'string' && typeof wire.m === 'string' && typeof wire.v === 'string';
    return ok ? wire : undefined;
  } catch {
    return undefined;
  }
}

/**
 * DecisionStore on MikroORM: routing decisions are queued in memory and written in batches off the
 * request path (one transaction per batch); feedback is written at once, because the client is
 * told it was accepted. A decision is findable in memory until its batch lands, then in the table:
 * nothing already written is kept in memory (with 50 models, 5,000 decisions and their candidates
 * are about 70 MB).
 *
 * Several replicas on one PostgreSQL database: `pullFeedback` returns the feedback the others stored
 * since the last call (see FeedbackCursor), so each replica's in-memory means follow all of it.
 */
import { DecisionListeners, type DecisionData, type DecisionListener, type DecisionQuery, type DecisionStatus, type DecisionStore, type FeedbackData } from '../core/decisions.js';
import type { Database } from './index.js';
import { DecisionEntity, FeedbackEntity, type DecisionRecord, type FeedbackRecord } from './entities.js';
import { dbTime } from './dialect.js';

export interface DecisionStoreOptions {
  /** Milliseconds between batch writes. */
  flushIntervalMs?: number;
  /** Write at once when this many decisions are queued. */
  maxBatch?: number;
  /** Decisions kept in memory while the database refuses them (default 100,000); beyond it the oldest are dropped. */
  maxQueued?: number;
  onError?: (error: unknown) => void;
}

export class SqlDecisionStore implements DecisionStore {
  private queue: DecisionData[] = [];
  /** Consecutive failed batch writes (see insertRowByRow). */
  private failedAttempts = 0;
  /** Decisions dropped from a full queue since the last report. */
  private dropped = 0;
  private readonly maxQueued: number;
  /** The queued decisions by response id (feedback can name one before its batch lands). */
  private readonly unwritten = new Map<string, DecisionData>();
  /** Status changes for rows already written or being written (settle), applied after the next batch. */
  private readonly settled = new Map<string, DecisionStatus>();
  /** Response ids of the batch being inserted right now (out of the queue, not yet written). */
  private readonly inserting = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly listeners = new DecisionListeners();
  private readonly feedbackCursor = new FeedbackCursor();
  /** saveFeedback and pullFeedback one at a time, so a row is never both ours and pulled. */
  private feedbackLock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly options: DecisionStoreOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxQueued = options.maxQueued ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  record(decision: DecisionData): void {
    // Bounded while the database is unreachable: the oldest rows go first (reported at the next write).
    if (this.queue.length >= this.maxQueued) {
      const gone = this.queue.splice(0, this.queue.length - this.maxQueued + 1);
      this.dropped += gone.length;
      this.forget(gone);
    }
    this.queue.push(decision);
    this.unwritten.set(decision.responseId, decision);
    // Once per crossing, not per row: a write in progress already takes what is queued when it starts.
    if (this.queue.length === this.maxBatch) void this.flush();
    this.listeners.emit(decision);
  }

  subscribe(listener: DecisionListener): () => void {
    return this.listeners.add(listener);
  }

  settle(responseId: string, status: DecisionStatus): void {
    const queued = this.unwritten.get(responseId);
    if (queued) queued.status = status;
    // Still waiting in the queue: its INSERT will carry the new status. Otherwise (written, or in a
    // batch being written) an UPDATE follows the next batch.
    if (!queued || this.inserting.has(responseId)) this.settled.set(responseId, status);
  }

  /** Flushes first, so what was just decided is listed too; then one indexed query. */
  async list(query: DecisionQuery): Promise<DecisionData[]> {
    await this.flush();
    const where: Record<string, unknown> = {};
    if (query.model) where.selectedModel = query.model;
    if (query.category) where.category = query.category;
    const rows = await this.db.em.fork().find(DecisionEntity, where, { orderBy: { id: 'desc' }, limit: query.limit });
    return rows.map(fromRecord);
  }

  async find(responseId: string): Promise<DecisionData | undefined> {
    const queued = this.unwritten.get(responseId);
    if (queued) return queued;
    const row = await this.db.em.fork().findOne(DecisionEntity, { responseId });
    return row ? fromRecord(row) : undefined;
  }

  async saveFeedback(feedback: FeedbackData): Promise<void> {
    await this.serialFeedback(async () => {
      // A native insert: em.flush() enters an AsyncLocalStorage (see src/db/index.ts).
      const id = await this.db.em.fork().insert(FeedbackEntity, { ...feedback, comment: feedback.comment ?? null });
      this.feedbackCursor.own(Number(id));
    });
  }

  async loadFeedback(): Promise<FeedbackData[]> {
    return this.serialFeedback(async () => {
      const rows = await this.db.em.fork().find(FeedbackEntity, {}, { orderBy: { id: 'asc' } });
      this.feedbackCursor.seen(rows.map((r) => r.id));
      return rows.map(feedbackFrom);
    });
  }

  /**
   * Feedback stored by other writers (replicas) since loadFeedback or the last pull, oldest first;
   * what this store saved itself is left out (the router counted it when it was given).
   */
  async pullFeedback(): Promise<FeedbackData[]> {
    return this.serialFeedback(async () => {
      const { after, gaps } = this.feedbackCursor.query();
      const where = gaps.length ? { $or: [{ id: { $gt: after } }, { id: { $in: gaps } }] } : { id: { $gt: after } };
      const rows = await this.db.em.fork().find(FeedbackEntity, where, { orderBy: { id: 'asc' } });
      const fresh = this.feedbackCursor.seen(rows.map((r) => r.id));
      return rows.filter((r) => fresh.has(r.id)).map(feedbackFrom);
    });
  }

  private serialFeedback<T>(task: () => Promise<T>): Promise<T> {
    const run = this.feedbackLock.then(task, task);
    this.feedbackLock = run.catch(() => undefined);
    return run;
  }

  /** Writes everything queued so far; serialised so batches never interleave. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeBatch());
    return this.writing;
  }

  /**
   * Writes what is still queued. A failed batch stays queued (writeBatch), so a database that is
   * busy for a moment at shutdown gets a few more tries before the rows are given up, loudly.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const pauseMs of CLOSE_RETRY_PAUSES_MS) {
      await this.flush();
      if (!this.queue.length) return;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    await this.flush();
    if (this.queue.length) {
      this.options.onError?.(new Error(`${this.queue.length} routing decision(s) could not be written before shutdown and are lost`));
    }
  }

  private async writeBatch(): Promise<void> {
    await this.writeBatchRows();
    if (this.settled.size) await this.writeSettled();
  }

  /** One UPDATE per status for the decisions settled since the last write; kept for the next one on failure. */
  private async writeSettled(): Promise<void> {
    const byStatus = new Map<DecisionStatus, string[]>();
    for (const [id, status] of this.settled) {
      // A row back in the queue (its batch failed) will be inserted with the new status already.
      if (this.unwritten.has(id)) continue;
      const ids = byStatus.get(status);
      if (ids) ids.push(id);
      else byStatus.set(status, [id]);
    }
    this.settled.clear();
    for (const [status, ids] of byStatus) {
      // Bounded lists: SQLite caps the parameters of one statement.
      for (let i = 0; i < ids.length; i += ROWS_PER_INSERT) {
        const chunk = ids.slice(i, i + ROWS_PER_INSERT);
        try {
          await this.db.em.fork().nativeUpdate(DecisionEntity, { responseId: { $in: chunk } }, { status });
        } catch (error) {
          for (const id of chunk) if (!this.settled.has(id)) this.settled.set(id, status);
          this.options.onError?.(error);
        }
      }
    }
  }

  private async writeBatchRows(): Promise<void> {
    if (this.dropped) {
      this.options.onError?.(new Error(`${this.dropped} routing decision(s) dropped: ${this.maxQueued} were already waiting for the database`));
      this.dropped = 0;
    }
    // Only the rows queued before this write began: rows that arrive while it runs wait for the next
    // flush, so a steady trickle of requests cannot keep a transaction going every few milliseconds.
    let remaining = this.queue.length;
    while (remaining > 0 && this.queue.length) {
      const batch = this.queue.splice(0, Math.min(this.maxBatch, remaining));
      remaining -= batch.length;
      for (const d of batch) this.inserting.add(d.responseId);
      try {
        await this.insert(batch);
        this.failedAttempts = 0;
        this.forget(batch);
      } catch (error) {
        this.failedAttempts++;
        if (this.failedAttempts >= ROW_BY_ROW_AFTER && (await this.insertRowByRow(batch))) {
          this.failedAttempts = 0;
          this.forget(batch);
          continue;
        }
        // Keep the rows for the next attempt rather than losing them (e.g. the database was busy).
        this.queue.unshift(...batch);
        this.options.onError?.(error);
        return;
      } finally {
        for (const d of batch) this.inserting.delete(d.responseId);
      }
    }
  }

  /** Rows written (or given up): from now on find() reads them from the table. */
  private forget(rows: readonly DecisionData[]): void {
    for (const d of rows) if (this.unwritten.get(d.responseId) === d) this.unwritten.delete(d.responseId);
  }

  /** One transaction, one cached multi-row INSERT per ROWS_PER_INSERT rows. */
  private async insert(batch: DecisionData[]): Promise<void> {
    // A plain multi-row INSERT from cached SQL text: MikroORM's unit of work, and even knex's
    // insert builder (per-row property handling), cost more main-thread CPU per row than the
    // rest of the request path's database work (profiled in `npm run bench`, docs/performance.md).
    const knex = this.db.em.getKnex();
    const time = (date: Date) => dbTime(this.db, date);
    await knex.transaction(async (trx) => {
      for (let i = 0; i < batch.length; i += ROWS_PER_INSERT) {
        const rows = batch.slice(i, i + ROWS_PER_INSERT);
        const bindings: unknown[] = [];
        for (const d of rows) pushRow(bindings, d, time);
        await trx.raw(insertSql(rows.length), bindings as never);
      }
    });
  }

  /**
   * A batch that keeps failing may hold one row the database will never take; retrying it whole
   * would block every later decision for ever. Row by row, the rows that fail while others succeed
   * are that poison and are dropped (reported); if every row fails, the database itself is the
   * problem and the batch is kept. Returns whether the batch is done with.
   */
  private async insertRowByRow(batch: DecisionData[]): Promise<boolean> {
    const failed: Array<{ decision: DecisionData; error: unknown }> = [];
    for (const decision of batch) {
      try {
        await this.insert([decision]);
      } catch (error) {
        failed.push({ decision, error });
      }
    }
    if (failed.length === batch.length) return false;
    for (const { decision, error } of failed) {
      this.options.onError?.(new Error(`routing decision ${decision.responseId} dropped: the database refuses it (${(error as Error)?.message ?? error})`));
    }
    return true;
  }
}

function feedbackFrom(r: FeedbackRecord): FeedbackData {
  return { responseId: r.responseId, modelKey: r.modelKey, category: r.category, score: r.score, comment: r.comment ?? undefined, createdAt: r.createdAt };
}

/**
 * Which feedback rows were already counted. Ids grow, but on PostgreSQL a row can become visible
 * after a higher one (two replicas inserting at once, the lower id committing later), so an id
 * skipped over is remembered as a gap and asked for again for a while; a gap that never fills (a
 * rolled-back insert uses up its id) is forgotten after GAP_TTL_MS.
 */
export class FeedbackCursor {
  private after = 0;
  private readonly gaps = new Map<number, number>();
  private readonly mine = new Set<number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A row this process wrote itself: never returned as fresh. */
  own(id: number): void {
    this.mine.add(id);
    // Bounded: a router nobody pulls for (one process on SQLite) must not collect ids for ever.
    if (this.mine.size > MAX_MINE) this.mine.delete(this.mine.values().next().value as number);
  }

  query(): { after: number; gaps: number[] } {
    const now = this.now();
    for (const [id, since] of this.gaps) if (now - since > GAP_TTL_MS) this.gaps.delete(id);
    return { after: this.after, gaps: [...this.gaps.keys()] };
  }

  /** Records the ids a query returned; answers those not counted before and not our own. */
  seen(ids: readonly number[]): Set<number> {
    const fresh = new Set<number>();
    const now = this.now();
    for (const id of [...ids].sort((a, b) => a - b)) {
      const wasGap = this.gaps.delete(id);
      if (id > this.after) {
        for (let missing = this.after + 1; missing < id && this.gaps.size < MAX_GAPS; missing++) this.gaps.set(missing, now);
        this.after = id;
      } else if (!wasGap) continue;
      if (this.mine.delete(id)) continue;
      fresh.add(id);
    }
    return fresh;
  }
}

/** Failed batch writes in a row before the batch is tried row by row (see insertRowByRow). */
const ROW_BY_ROW_AFTER = 3;

/** Pauses between the final flush attempts at shutdown. */
const CLOSE_RETRY_PAUSES_MS = [50, 250, 1000];

const GAP_TTL_MS = 60_000;
const MAX_GAPS = 1000;
const MAX_MINE = 10_000;

/** 14 columns per row: 50 rows (700 parameters) stay under SQLite's bound-parameter limit. */
const ROWS_PER_INSERT = 50;

/** Column names as in migration 0001, in the order pushRow binds them. */
const COLUMNS = [
  'response_id', 'request_id', 'created_at', 'protocol', 'category', 'complexity', 'complexity_score', 'selected_model',
  'quality_preference', 'candidates', 'attempts', 'cache', 'status', 'latency_ms',
] as const;

const insertSqlByRows = new Map<number, string>();

/** `INSERT ... VALUES (?, ...), (?, ...)` for `rows` rows; built once per row count. */
function insertSql(rows: number): string {
  let sql = insertSqlByRows.get(rows);
  if (!sql) {
    const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
    sql = `insert into routing_decisions (${COLUMNS.join(', ')}) values ${Array.from({ length: rows }, () => tuple).join(', ')}`;
    insertSqlByRows.set(rows, sql);
  }
  return sql;
}

/** Appends one decision's values in COLUMNS order; `time` writes a datetime as the engine stores it (dialect.ts). */
function pushRow(out: unknown[], d: DecisionData, time: (date: Date) => number | Date): void {
  const r = toRecord(d);
  out.push(
    r.responseId, r.requestId, time(r.createdAt), r.protocol, r.category, r.complexity, r.complexityScore, r.selectedModel,
    r.qualityPreference, r.candidates, r.attempts, r.cache, r.status, r.latencyMs,
  );
  // A field a JavaScript caller left out binds as NULL (the database then judges it), never as an
  // undefined binding knex refuses for the whole statement.
  for (let i = out.length - COLUMNS.length; i < out.length; i++) if (out[i] === undefined) out[i] = null;
}

function toRecord(d: DecisionData): Omit<DecisionRecord, 'id'> {
  return {
    responseId: d.responseId,
    requestId: d.requestId ?? null,
    createdAt: d.createdAt,
    protocol: d.protocol,
    category: d.category,
    complexity: d.complexity,
    complexityScore: d.complexityScore,
    selectedModel: d.selectedModel,
    qualityPreference: d.qualityPreference,
    candidates: JSON.stringify({ routed: d.routed, candidates: d.candidates }),
    attempts: JSON.stringify(d.attempts),
    cache: d.cache,
    status: d.status,
    latencyMs: d.latencyMs,
  };
}

function fromRecord(r: DecisionRecord): DecisionData {
  const parsed = JSON.parse(r.candidates) as { routed: boolean; candidates: DecisionData['candidates'] };
  return {
    responseId: r.responseId,
    requestId: r.requestId ?? undefined,
    createdAt: r.createdAt,
    protocol: r.protocol as DecisionData['protocol'],
    category: r.category,
    complexity: r.complexity,
    complexityScore: r.complexityScore,
    selectedModel: r.selectedModel ?? null,
    qualityPreference: r.qualityPreference,
    routed: parsed.routed,
    candidates: parsed.candidates,
    attempts: JSON.parse(r.attempts) as DecisionData['attempts'],
    cache: r.cache as DecisionData['cache'],
    status: r.status,
    latencyMs: r.latencyMs ?? 0,
  };
}

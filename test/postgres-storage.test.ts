/**
 * The storage suite on both engines: every store (decisions and feedback, profiles, benchmarks,
 * models, VRAM) against a SQLite file and against a real PostgreSQL server on loopback
 * (test/support/services.ts), through the same migrations. Plus ROUTER_DATABASE_URL parsing and
 * several replicas migrating one PostgreSQL database at the same time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTarget, DatabaseConfigError, dialectOf, openDatabase, pingDatabase, redactUrl, type Database } from '../src/db/index.js';
import { SqlDecisionStore } from '../src/db/decision-store.js';
import { ProfileStore } from '../src/db/profile-store.js';
import { BenchmarkStore } from '../src/db/benchmark-store.js';
import { ModelStore } from '../src/db/model-store.js';
import { SqlModelVramStore } from '../src/db/model-vram-store.js';
import type { DecisionData } from '../src/core/decisions.js';
import type { BackendModelInfo } from '../src/plugin-api/index.js';
import { startPostgres, type PostgresService } from './support/services.js';

const started = await startPostgres();
const pg: PostgresService | undefined = 'skip' in started ? undefined : started;
const skipReason = 'skip' in started ? started.skip : undefined;
afterAll(async () => {
  await pg?.stop();
});

describe('ROUTER_DATABASE_URL selects the engine', () => {
  it('postgres:// and postgresql:// select PostgreSQL; anything else is a SQLite file', () => {
    expect(databaseTarget('postgresql://u:p@db:5432/router')).toEqual({ dialect: 'postgresql', url: 'postgresql://u:p@db:5432/router' });
    expect(databaseTarget('postgres://db/router').dialect).toBe('postgresql');
    expect(databaseTarget('sqlite:///data/router.db', '/srv')).toEqual({ dialect: 'sqlite', path: '/srv/data/router.db' });
  });

  it('rejects a PostgreSQL URL without a database name or host, without echoing the password', () => {
    expect(() => databaseTarget('postgresql://u:secret@db:5432/')).toThrow(/no database name/);
    expect(() => databaseTarget('postgresql://u:secret@db:5432/')).toThrow(DatabaseConfigError);
    expect(() => databaseTarget('postgresql:///router')).toThrow(/no host/);
    expect(redactUrl('postgresql://u:secret@db/x')).toBe('postgresql://u:***@db/x');
  });

  it('reports a server that cannot be reached as CRITICAL, password hidden', async () => {
    const error = await openDatabase('postgresql://u:secret@127.0.0.1:9/router').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseConfigError);
    expect((error as Error).message).toMatch(/^CRITICAL: cannot open the database postgresql:\/\/u:\*\*\*@127\.0\.0\.1:9\/router/);
    expect((error as Error).message).not.toContain('secret');
  });
});

const engines: Array<{ name: string; open: () => Promise<Database>; skip?: string }> = [
  { name: 'SQLite', open: () => openDatabase(join(mkdtempSync(join(tmpdir(), 'sr-db-')), 'router.db')) },
  { name: 'PostgreSQL', open: async () => openDatabase(await pg!.createDatabase('storage')), skip: skipReason },
];

const info = (id: string, extra: Partial<BackendModelInfo> = {}): BackendModelInfo => ({
  id,
  capabilities: { chat: true, vision: false, tools: false, embeddings: false },
  ...extra,
});

function decision(responseId: string, overrides: Partial<DecisionData> = {}): DecisionData {
  return {
    responseId,
    createdAt: new Date('2025-03-01T10:00:00.123Z'),
    protocol: 'rest',
    category: 'coding',
    complexity: 'hard',
    complexityScore: 0.75,
    selectedModel: 'coder:7b',
    qualityPreference: 0.5,
    routed: true,
    candidates: [],
    attempts: [],
    cache: 'miss',
    status: 'ok',
    latencyMs: 12.5,
    ...overrides,
  };
}

for (const engine of engines) {
  describe.skipIf(engine.skip !== undefined)(`storage on ${engine.name}${engine.skip ? ` (skipped: ${engine.skip})` : ''}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await engine.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('migrates, answers the health probe and knows its dialect', async () => {
      expect(dialectOf(db)).toBe(engine.name === 'SQLite' ? 'sqlite' : 'postgresql');
      expect(await pingDatabase(db)).toBe(true);
      expect(await db.getMigrator().getPendingMigrations()).toEqual([]);
      expect((await db.getMigrator().getExecutedMigrations()).map((m) => m.name)).toEqual(['0001-initial-schema', '0002-profile-results']);
    });

    it('decisions: batched writes, filters, lookups and dates survive the round trip', async () => {
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      store.record(decision('r-1'));
      store.record(decision('r-2', { category: 'general', selectedModel: 'chat:3b', complexityScore: 0.1 }));
      store.record(decision('r-3', { selectedModel: null, status: 'no_candidates', routed: false }));
      await store.flush();
      const all = await store.list({ limit: 10 });
      expect(all.map((d) => d.responseId)).toEqual(['r-3', 'r-2', 'r-1']);
      expect(all[2]).toMatchObject({ createdAt: new Date('2025-03-01T10:00:00.123Z'), complexityScore: 0.75, latencyMs: 12.5, routed: true });
      expect((await store.list({ limit: 10, category: 'general' })).map((d) => d.responseId)).toEqual(['r-2']);
      expect((await store.list({ limit: 10, model: 'coder:7b' })).map((d) => d.responseId)).toEqual(['r-1']);
      // A fresh store reads from the table, not from its memory.
      const other = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      expect(await other.find('r-2')).toMatchObject({ selectedModel: 'chat:3b', createdAt: new Date('2025-03-01T10:00:00.123Z') });
      expect(await other.find('nope')).toBeUndefined();
      await store.close();
      await other.close();
    });

    it('decisions: findable in memory until their batch lands, then only from the table (nothing written is kept)', async () => {
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      store.record(decision('mem-1'));
      // Not written yet: feedback arriving now still finds it.
      expect(await new SqlDecisionStore(db, { flushIntervalMs: 60_000 }).find('mem-1')).toBeUndefined();
      expect(await store.find('mem-1')).toMatchObject({ responseId: 'mem-1', selectedModel: 'coder:7b' });
      await store.flush();
      expect(await store.find('mem-1')).toMatchObject({ responseId: 'mem-1' });
      // Once written, the table is the only copy: take the row away and the store no longer finds it.
      await db.em.getKnex()('routing_decisions').where({ response_id: 'mem-1' }).delete();
      expect(await store.find('mem-1')).toBeUndefined();
      await store.close();
    });

    it('decisions: a batch larger than one INSERT lands whole, every column intact', async () => {
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000, maxBatch: 1000 });
      const ids = Array.from({ length: 123 }, (_, i) => `big-${i}`);
      for (const id of ids) store.record(decision(id, { requestId: `req-${id}`, attempts: [{ model: 'coder:7b', backend: 'b', outcome: 'ok', latencyMs: 3 }] as never }));
      await store.flush();
      const rows = await store.list({ limit: 500, model: 'coder:7b' });
      expect(rows.filter((d) => d.responseId.startsWith('big-')).map((d) => d.responseId).sort()).toEqual([...ids].sort());
      const fresh = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      expect(await fresh.find('big-77')).toMatchObject({ requestId: 'req-big-77', protocol: 'rest', complexity: 'hard', cache: 'miss', status: 'ok', latencyMs: 12.5 });
      expect((await fresh.find('big-77'))!.attempts).toEqual([{ model: 'coder:7b', backend: 'b', outcome: 'ok', latencyMs: 3 }]);
      await store.close();
      await fresh.close();
    });

    it('decisions: rows that trickle in during a write wait for the next interval (no transaction every few rows)', async () => {
      const knex = db.em.getKnex();
      let transactions = 0;
      const onQuery = (q: { sql: string }) => {
        if (/^begin/i.test(q.sql)) transactions++;
      };
      knex.on('query', onQuery);
      const store = new SqlDecisionStore(db, { flushIntervalMs: 150 });
      const ids: string[] = [];
      // A request every millisecond or so for 600 ms, as a busy router records them.
      const until = Date.now() + 600;
      for (let i = 0; Date.now() < until; i++) {
        ids.push(`trickle-${i}`);
        store.record(decision(`trickle-${i}`));
        await new Promise((r) => setTimeout(r, 1));
      }
      await store.close();
      knex.off('query', onQuery);
      expect(ids.length).toBeGreaterThan(100);
      // About one write per interval plus the final one, not a transaction for every few rows.
      expect(transactions).toBeGreaterThanOrEqual(2);
      expect(transactions).toBeLessThanOrEqual(8);
      const fresh = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      for (const id of [ids[0]!, ids[Math.floor(ids.length / 2)]!, ids[ids.length - 1]!]) expect(await fresh.find(id)).toMatchObject({ responseId: id });
      await fresh.close();
    });

    it('decisions: settle() changes the status of a row still queued, in a batch being written, or written', async () => {
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      const fresh = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      // Still queued: the INSERT carries the new status.
      store.record(decision('settle-queued'));
      store.settle('settle-queued', 'aborted');
      // Written already: an UPDATE follows the next write.
      store.record(decision('settle-written'));
      await store.flush();
      store.settle('settle-written', 'failed_after_first_token');
      // In a batch being written at that moment: the UPDATE after it wins.
      store.record(decision('settle-inflight'));
      const writing = store.flush();
      store.settle('settle-inflight', 'aborted');
      await writing;
      await store.flush();
      expect((await fresh.find('settle-queued'))?.status).toBe('aborted');
      expect((await fresh.find('settle-written'))?.status).toBe('failed_after_first_token');
      expect((await fresh.find('settle-inflight'))?.status).toBe('aborted');
      // An unknown id changes nothing and throws nothing.
      store.settle('settle-unknown', 'aborted');
      await store.flush();
      expect(await fresh.find('settle-unknown')).toBeUndefined();
      await store.close();
      await fresh.close();
    });

    it('decisions: a settle() whose UPDATE fails is kept for the next write', async () => {
      const errors: unknown[] = [];
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
      store.record(decision('settle-retry'));
      await store.flush();
      const knex = db.em.getKnex();
      await knex.raw('alter table routing_decisions rename to routing_decisions_away');
      try {
        store.settle('settle-retry', 'aborted');
        await store.flush();
        expect(errors.length).toBeGreaterThan(0);
      } finally {
        await knex.raw('alter table routing_decisions_away rename to routing_decisions');
      }
      await store.flush();
      expect((await new SqlDecisionStore(db, { flushIntervalMs: 60_000 }).find('settle-retry'))?.status).toBe('aborted');
      await store.close();
    });

    it('decisions: close() retries a batch the database refused for a moment instead of losing it', async () => {
      const errors: unknown[] = [];
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
      const knex = db.em.getKnex();
      // The table disappears for a moment (as if locked or mid-migration), then comes back.
      await knex.raw('alter table routing_decisions rename to routing_decisions_away');
      store.record(decision('late-1'));
      const closing = store.close();
      await new Promise((r) => setTimeout(r, 120));
      await knex.raw('alter table routing_decisions_away rename to routing_decisions');
      await closing;
      expect(errors.length).toBeGreaterThan(0);
      const fresh = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      expect(await fresh.find('late-1')).toMatchObject({ responseId: 'late-1' });
      await fresh.close();
    });

    it('decisions: a row the database refuses is dropped (reported) after a few tries, and never blocks the rest', async () => {
      const errors: Error[] = [];
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000, onError: (e) => errors.push(e as Error) });
      store.record(decision('good-1'));
      // protocol is NOT NULL: a JavaScript caller that left it out sends a row no engine accepts.
      store.record(decision('poison-1', { protocol: undefined as never }));
      store.record(decision('good-2'));
      const fresh = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      await store.flush();
      await store.flush();
      // Two failures could be a busy database: the batch is kept whole.
      expect(await fresh.find('good-1')).toBeUndefined();
      await store.flush();
      expect(await fresh.find('good-1')).toMatchObject({ responseId: 'good-1' });
      expect(await fresh.find('good-2')).toMatchObject({ responseId: 'good-2' });
      expect(await fresh.find('poison-1')).toBeUndefined();
      expect(errors.some((e) => /routing decision poison-1 dropped/.test(e.message))).toBe(true);
      // Later decisions flow again at once.
      store.record(decision('good-3'));
      await store.flush();
      expect(await fresh.find('good-3')).toMatchObject({ responseId: 'good-3' });
      await store.close();
      await fresh.close();
    });

    it('decisions: while nothing can be written (the database away) the queue stays bounded, oldest dropped, said once', async () => {
      const errors: Error[] = [];
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000, maxBatch: 1000, maxQueued: 5, onError: (e) => errors.push(e as Error) });
      for (let i = 0; i < 8; i++) store.record(decision(`bounded-${i}`));
      await store.flush();
      expect(errors.filter((e) => /dropped/.test(e.message)).map((e) => e.message)).toEqual(['3 routing decision(s) dropped: 5 were already waiting for the database']);
      const fresh = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      expect(await fresh.find('bounded-2')).toBeUndefined();
      expect(await fresh.find('bounded-3')).toMatchObject({ responseId: 'bounded-3' });
      expect(await fresh.find('bounded-7')).toMatchObject({ responseId: 'bounded-7' });
      await store.close();
      await fresh.close();
    });

    it('feedback: stored at once, loaded in order', async () => {
      const store = new SqlDecisionStore(db, { flushIntervalMs: 60_000 });
      await store.saveFeedback({ responseId: 'r-1', modelKey: 'coder:7b', category: 'coding', score: 1, comment: 'great', createdAt: new Date() });
      await store.saveFeedback({ responseId: 'r-2', modelKey: 'chat:3b', category: 'general', score: -0.5, createdAt: new Date() });
      const rows = await store.loadFeedback();
      expect(rows.map((f) => [f.modelKey, f.score, f.comment])).toEqual([
        ['coder:7b', 1, 'great'],
        ['chat:3b', -0.5, undefined],
      ]);
      expect(rows[0]!.createdAt).toBeInstanceOf(Date);
      await store.close();
    });

    it('profiles: prompt results upsert, model state and per-category rows round-trip', async () => {
      const store = new ProfileStore(db);
      const outcome = { promptId: 'p1', category: 'coding' as const, score: 0.5, ttftMs: 10, tokensPerSecond: 40, latencyMs: 100, failed: false, timedOut: false };
      await store.saveResult('Coder:7B', 'v1', outcome);
      await store.saveResult('Coder:7B', 'v1', { ...outcome, score: 0.9 });
      await store.saveResult('Coder:7B', 'v1', { ...outcome, promptId: 'p2', score: 0, ttftMs: null, tokensPerSecond: null, latencyMs: null, failed: true, timedOut: true });
      expect(await store.finishedPrompts('Coder:7B', 'v1')).toEqual([
        { ...outcome, score: 0.9 },
        { promptId: 'p2', category: 'coding', score: 0, ttftMs: null, tokensPerSecond: null, latencyMs: null, failed: true, timedOut: true },
      ]);
      expect(await store.finishedPrompts('Coder:7B', 'v2')).toEqual([]);

      expect(await store.lastFinishedAt()).toBeUndefined();
      const startedAt = new Date('2025-03-01T10:00:00.500Z');
      await store.saveModelState({ modelKey: 'Coder:7B', digest: 'sha', sizeBytes: 5_000_000_000, promptSetVersion: 'v1', promptsPerCategory: 2, judge: 'heuristic', startedAt, finishedAt: null });
      expect(await store.modelState('Coder:7B')).toEqual({ modelKey: 'Coder:7B', digest: 'sha', sizeBytes: 5_000_000_000, promptSetVersion: 'v1', promptsPerCategory: 2, judge: 'heuristic', startedAt, finishedAt: null });
      const finishedAt = new Date('2025-03-01T10:05:00.250Z');
      await store.saveModelState({ modelKey: 'Coder:7B', digest: 'sha', sizeBytes: 5_000_000_000, promptSetVersion: 'v1', promptsPerCategory: 2, judge: 'heuristic', startedAt, finishedAt });
      expect((await store.modelState('Coder:7B'))?.finishedAt).toEqual(finishedAt);
      expect(await store.lastFinishedAt()).toEqual(finishedAt);

      const result = (score: number) => ({ score, ttftMs: 10, tokensPerSecond: 40, totalLatencyMs: 100, prompts: 2, failures: 0, timeouts: 0 });
      await store.saveProfiles('Coder:7B', { coding: result(0.9), general: result(0.4) }, 'heuristic', 'v1');
      await store.saveProfiles('Coder:7B', { coding: result(0.8) }, 'heuristic', 'v1');
      await store.saveProfiles('chat:3b', { general: result(0.7) }, 'heuristic', 'v1');
      const profile = await store.profileFor('Coder:7B');
      expect(profile?.scores).toEqual({ coding: 0.8, general: 0.4 });
      expect(profile?.categories.coding?.updatedAt).toBeInstanceOf(Date);
      expect([...(await store.allProfiles()).keys()].sort()).toEqual(['Coder:7B', 'chat:3b']);
      // A part of a key matches case-insensitively on both engines.
      const page = await store.listProfiles({ model: 'coder', sortBy: 'score', descending: true, limit: 10, offset: 0 });
      expect(page.total).toBe(2);
      expect(page.rows.map((r) => r.score)).toEqual([0.8, 0.4]);
      await store.clearResults('Coder:7B');
      expect(await store.finishedPrompts('Coder:7B', 'v1')).toEqual([]);
    });

    it('benchmarks: upsert updates in place, lists with filters, prunes stale rows', async () => {
      const store = new BenchmarkStore(db);
      const fetchedAt = new Date('2024-06-01T00:00:00Z');
      const row = { entry: 'qwen2.5-coder-7b-instruct', benchmark: 'HumanEval', score: 80, normalized: 0.8, source: 'card', fetchedAt };
      expect(await store.upsert([row, { ...row, benchmark: 'MMLU', score: 60, normalized: 0.6 }])).toBe(2);
      expect(await store.upsert([{ ...row, score: 85, normalized: 0.85, sourceUrl: 'https://example.com' }])).toBe(1);
      const all = await store.all();
      expect(all).toHaveLength(2);
      expect(all.find((r) => r.benchmark === 'HumanEval')).toMatchObject({ score: 85, sourceUrl: 'https://example.com', fetchedAt });
      const page = await store.list({ model: 'QWEN2.5', sortBy: 'score', descending: false, limit: 10, offset: 0 });
      expect(page.rows.map((r) => r.benchmark)).toEqual(['MMLU', 'HumanEval']);
      expect(await store.prune(['card'], [row])).toBe(1);
      expect((await store.all()).map((r) => r.benchmark)).toEqual(['HumanEval']);
    });

    it('models: discovery sync and measured VRAM (big sizes stay numbers)', async () => {
      const models = new ModelStore(db);
      const seen = new Date('2025-03-01T12:00:00.000Z');
      const first = await models.sync(
        [
          { key: 'big:70b', backend: 'gpu', info: info('big:70b', { sizeBytes: 42_000_000_000, digest: 'd1', parameterCountB: 70.6 }), available: true },
          { key: 'small:1b', backend: 'gpu', info: info('small:1b'), available: true },
        ],
        seen,
      );
      expect(first.added.sort()).toEqual(['big:70b', 'small:1b']);
      await models.setVram('big:70b', 45_000_000_000, seen);
      const stored = await models.get('big:70b');
      expect(stored).toMatchObject({ backend: 'gpu', available: true, parameterCountB: 70.6, firstSeenAt: seen, vramMeasuredAt: seen });
      expect(Number(stored!.sizeBytes)).toBe(42_000_000_000);
      expect(Number(stored!.vramBytes)).toBe(45_000_000_000);
      const second = await models.sync([{ key: 'big:70b', backend: 'gpu', info: info('big:70b', { sizeBytes: 42_000_000_000, digest: 'd2' }), available: true }], new Date());
      expect(second).toMatchObject({ changed: ['big:70b'], vanished: ['small:1b'] });
      expect((await models.get('big:70b'))?.vramBytes ?? null).toBeNull();
      expect((await models.all()).get('small:1b')?.available).toBe(false);

      const vram = new SqlModelVramStore(db);
      const at = new Date('2025-03-02T08:00:00.000Z');
      await vram.save({ modelKey: 'big:70b', vramBytes: 44_000_000_000, measuredAt: at }, { backend: 'gpu', info: info('big:70b') });
      await vram.save({ modelKey: 'new:8b', vramBytes: 6_000_000_000, measuredAt: at }, { backend: 'cpu', info: info('new:8b') });
      const loaded = (await vram.loadAll()).sort((a, b) => a.modelKey.localeCompare(b.modelKey));
      expect(loaded).toEqual([
        { modelKey: 'big:70b', vramBytes: 44_000_000_000, measuredAt: at },
        { modelKey: 'new:8b', vramBytes: 6_000_000_000, measuredAt: at },
      ]);
      // The VRAM upsert leaves discovery's columns alone.
      expect((await models.get('big:70b'))?.digest).toBe('d2');
      expect((await models.get('new:8b'))?.lastSeenAt).toEqual(at);
    });
  });
}

describe.skipIf(skipReason !== undefined)('PostgreSQL shared by several replicas', () => {
  it('replicas starting at the same time migrate once and all open', async () => {
    const url = await pg!.createDatabase('race');
    const dbs = await Promise.all([openDatabase(url), openDatabase(url), openDatabase(url)]);
    try {
      for (const db of dbs) expect(await db.getMigrator().getPendingMigrations()).toEqual([]);
      const executed = await dbs[0]!.getMigrator().getExecutedMigrations();
      expect(executed.map((m) => m.name)).toEqual(['0001-initial-schema', '0002-profile-results']);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

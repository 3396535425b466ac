import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseConfigError, openDatabase, pingDatabase, sqlitePathFromUrl, type Database } from '../src/db/index.js';
import { DecisionEntity, FeedbackEntity } from '../src/db/entities.js';

const opened: Database[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});

describe('ROUTER_DATABASE_URL', () => {
  it.each([
    ['sqlite:///data/router.db', '/srv/app/data/router.db'],
    ['sqlite:////var/lib/router.db', '/var/lib/router.db'],
    ['data/x.db', '/srv/app/data/x.db'],
    ['/abs/x.db', '/abs/x.db'],
    ['sqlite://rel.db', '/srv/app/rel.db'],
  ])('%s -> %s', (url, path) => {
    expect(sqlitePathFromUrl(url, '/srv/app')).toBe(path);
  });

  it('rejects other schemes with a clear message', () => {
    expect(() => sqlitePathFromUrl('mysql://x/y')).toThrow(/unsupported scheme .*postgresql:\/\/user:password@host:5432\/router/);
    // The password of a URL that is refused never appears in the message.
    expect(() => sqlitePathFromUrl('mysql://root:hunter2@db/router')).toThrow(/^(?!.*hunter2)/);
    expect(() => sqlitePathFromUrl('postgresql://u@h/db')).toThrow(/not a SQLite file path/);
    expect(() => sqlitePathFromUrl('sqlite:///')).toThrow(/no file path/);
  });
});

describe('openDatabase', () => {
  it('creates missing parent folders, applies migrations and uses WAL with synchronous NORMAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-db-'));
    const db = await openDatabase('sqlite:///nested/deeper/router.db', dir);
    opened.push(db);
    expect(existsSync(join(dir, 'nested/deeper/router.db'))).toBe(true);
    const conn = db.em.fork().getConnection();
    expect(await conn.execute('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    // 1 = NORMAL: commits do not wait for an fsync (see openDatabase).
    expect(await conn.execute('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
    const tables = (await conn.execute("select name from sqlite_master where type='table'")).map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['models', 'profiles', 'benchmark_scores', 'routing_decisions', 'feedback']));
    expect(await pingDatabase(db)).toBe(true);
  });

  it('keeps data across restarts and does not re-run migrations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-db-'));
    const first = await openDatabase(join(dir, 'r.db'));
    const em = first.em.fork();
    em.create(FeedbackEntity, { responseId: 'r1', modelKey: 'm', category: 'coding', score: 1, comment: 'good', createdAt: new Date() });
    em.create(DecisionEntity, {
      responseId: 'r1',
      createdAt: new Date(),
      protocol: 'rest',
      category: 'coding',
      complexity: 'hard',
      complexityScore: 0.8,
      selectedModel: 'm',
      qualityPreference: 0.5,
      candidates: '[]',
      attempts: '[]',
      cache: 'miss',
      status: 'ok',
    });
    await em.flush();
    await first.close();
    const second = await openDatabase(join(dir, 'r.db'));
    opened.push(second);
    expect(await second.em.fork().count(FeedbackEntity)).toBe(1);
    expect(await second.getMigrator().getPendingMigrations()).toEqual([]);
  });

  it('refuses a path that is a directory with a CRITICAL message saying how to fix it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-db-'));
    mkdirSync(join(dir, 'router.db'));
    await expect(openDatabase(join(dir, 'router.db'))).rejects.toThrow(/CRITICAL: database path .*router\.db is a directory\. Point ROUTER_DATABASE_URL at a file/);
  });

  it('reports a folder it cannot create', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-db-'));
    writeFileSync(join(dir, 'a-file'), 'x');
    const error = await openDatabase(join(dir, 'a-file', 'sub', 'router.db')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseConfigError);
    expect((error as Error).message).toMatch(/CRITICAL: cannot create the folder for the database/);
  });
});

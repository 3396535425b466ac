/**
 * Opens the store: resolves ROUTER_DATABASE_URL to a SQLite file (one router; WAL, so readers never
 * wait for the writer) or a PostgreSQL server (several replicas share it), and runs pending
 * migrations, the same ones on both engines.
 *
 * One rule for every store: no em.flush(), em.transactional(), em.commit() or em.findAndCount().
 * MikroORM enters an AsyncLocalStorage in each of them, and on Node 20 a single entry makes every
 * promise the process creates from then on run an async hook: about 13% of the router's CPU per
 * request at 16 clients (docs/performance.md). Stores write with native calls (insert, insertMany,
 * nativeUpdate, upsertMany) or knex, inside `em.getConnection().transactional()` when they need a
 * transaction, and count with em.count(). test/no-async-context.test.ts holds the line.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { MikroORM as CoreMikroORM, Options } from '@mikro-orm/core';
import type { AbstractSqlDriver, SqlEntityManager } from '@mikro-orm/knex';
// The two drivers are imported when a database of that kind is opened, not at load time: a SQLite
// router never loads the PostgreSQL driver and pg (about 2 MB of heap), and vice versa.
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';
import { setDialect, type Dialect } from './dialect.js';

export { dialectOf, type Dialect } from './dialect.js';

export class DatabaseConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseConfigError';
  }
}

/** Either engine: the stores use only what both SQL drivers share (entities, knex). */
export type Database = CoreMikroORM<AbstractSqlDriver, SqlEntityManager<AbstractSqlDriver>>;

/** Where ROUTER_DATABASE_URL points. */
export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgresql'; url: string };

const POSTGRES_URL = /^(postgres|postgresql):\/\//i;

/** A postgres:// or postgresql:// URL selects PostgreSQL; anything else is a SQLite file. */
export function databaseTarget(url: string, cwd = process.cwd()): DatabaseTarget {
  const trimmed = url.trim();
  if (POSTGRES_URL.test(trimmed)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw new DatabaseConfigError(`ROUTER_DATABASE_URL: "${redactUrl(trimmed)}" is not a valid URL (e.g. postgresql://user:password@host:5432/router)`);
    }
    if (!parsed.hostname) throw new DatabaseConfigError('ROUTER_DATABASE_URL: no host in the PostgreSQL URL (e.g. postgresql://user:password@host:5432/router)');
    if (parsed.pathname.replace(/^\//, '') === '') {
      throw new DatabaseConfigError('ROUTER_DATABASE_URL: no database name in the PostgreSQL URL (e.g. postgresql://user:password@host:5432/router)');
    }
    return { dialect: 'postgresql', url: trimmed };
  }
  return { dialect: 'sqlite', path: sqlitePathFromUrl(trimmed, cwd) };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Reads a database URL as the original router did: `sqlite:///rel/path.db` (three slashes) is
 * relative to the working directory, `sqlite:////abs/path.db` (four) is absolute; a plain path works too.
 */
export function sqlitePathFromUrl(url: string, cwd = process.cwd()): string {
  const trimmed = url.trim();
  if (POSTGRES_URL.test(trimmed)) {
    // openDatabase sends these to the PostgreSQL driver (databaseTarget) before asking for a path.
    throw new DatabaseConfigError('ROUTER_DATABASE_URL: a PostgreSQL URL is not a SQLite file path (openDatabase connects to PostgreSQL itself)');
  }
  let path: string;
  const match = /^sqlite:\/\/(.*)$/i.exec(trimmed);
  if (match) {
    // "sqlite:///data/x.db" leaves "/data/x.db": one leading slash means relative, two mean absolute.
    const rest = match[1]!;
    path = rest.startsWith('/') ? rest.slice(1) : rest;
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new DatabaseConfigError(`ROUTER_DATABASE_URL: unsupported scheme in "${redactUrl(trimmed)}" (use sqlite:///path.db, a file path, or postgresql://user:password@host:5432/router)`);
  } else {
    path = trimmed;
  }
  if (!path) throw new DatabaseConfigError('ROUTER_DATABASE_URL: no file path given (e.g. sqlite:///data/router.db)');
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** Creates the parent folders and refuses a path that is a directory, with a message saying how to fix it. */
export function prepareDatabaseFile(path: string): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    stats = undefined;
  }
  if (stats?.isDirectory()) {
    throw new DatabaseConfigError(
      `CRITICAL: database path ${path} is a directory. Point ROUTER_DATABASE_URL at a file inside it, e.g. sqlite:///${path.replace(/^\//, '')}/router.db, or remove the directory.`,
    );
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new DatabaseConfigError(
      `CRITICAL: cannot create the folder for the database ${path}: ${(error as Error).message}. Make it writable or set ROUTER_DATABASE_URL elsewhere.`,
    );
  }
}

/** Where MikroORM's own messages (migrations applied) go. */
export interface DatabaseLogger {
  debug(msg: string): void;
  info(obj: object, msg: string): void;
}

export async function openDatabase(url: string, cwd = process.cwd(), logger?: DatabaseLogger): Promise<Database> {
  const target = databaseTarget(url, cwd);
  if (target.dialect === 'sqlite') prepareDatabaseFile(target.path);
  const where = target.dialect === 'sqlite' ? target.path : redactUrl(target.url);
  const options: Options = {
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, snapshot: false },
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    debug: false,
    logger: (message: string) => logger?.debug(message),
  };
  let orm: Database | undefined;
  try {
    if (target.dialect === 'sqlite') {
      const { MikroORM: SqliteMikroORM } = await import('@mikro-orm/sqlite');
      orm = (await SqliteMikroORM.init({ ...options, dbName: target.path } as never)) as unknown as Database;
      await orm.em.getConnection().execute('PRAGMA journal_mode = WAL');
      await orm.em.getConnection().execute('PRAGMA busy_timeout = 5000');
      // WAL's usual pairing: commits no longer wait for an fsync (the WAL is synced at checkpoints).
      // An application crash loses nothing; a power cut can lose the last moments of decisions, never
      // corrupt the file. With FULL every decision batch blocked the event loop on the disk.
      await orm.em.getConnection().execute('PRAGMA synchronous = NORMAL');
    } else {
      const { MikroORM: PostgreSqlMikroORM } = await import('@mikro-orm/postgresql');
      orm = (await PostgreSqlMikroORM.init({ ...options, clientUrl: target.url } as never)) as unknown as Database;
    }
    setDialect(orm, target.dialect);
    const applied = await migrate(orm, target.dialect);
    if (applied.length) logger?.info({ migrations: applied, path: where }, 'database migrated');
  } catch (error) {
    await orm?.close().catch(() => undefined);
    if (error instanceof DatabaseConfigError) throw error;
    throw new DatabaseConfigError(`CRITICAL: cannot open the database ${where}: ${redactUrl((error as Error).message)}`);
  }
  return orm;
}

/** Any fixed number: the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 74_311_011;

/**
 * Runs pending migrations. On PostgreSQL several replicas may start at once: each waits for a
 * transaction-scoped advisory lock first, so one migrates and the others then find nothing pending
 * (a SQLite file has one router, and its own write lock).
 */
async function migrate(orm: Database, dialect: Dialect): Promise<string[]> {
  const run = async () => (await orm.getMigrator().up()).map((m) => m.name);
  if (dialect === 'sqlite') return run();
  return orm.em.getKnex().transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    return run();
  });
}

/** Cheap liveness probe for /health. */
export async function pingDatabase(db: Database): Promise<boolean> {
  try {
    await db.em.fork().getConnection().execute('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

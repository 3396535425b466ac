/**
 * Opens the store: resolves ROUTER_DATABASE_URL, makes sure the file can be created, runs pending
 * migrations and switches SQLite to WAL (readers never wait for the writer).
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MikroORM } from '@mikro-orm/sqlite';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

export class DatabaseConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseConfigError';
  }
}

export type Database = MikroORM;

/**
 * Reads a database URL as the original router did: `sqlite:///rel/path.db` (three slashes) is
 * relative to the working directory, `sqlite:////abs/path.db` (four) is absolute; a plain path works too.
 */
export function sqlitePathFromUrl(url: string, cwd = process.cwd()): string {
  const trimmed = url.trim();
  if (/^(postgres|postgresql):\/\//i.test(trimmed)) {
    throw new DatabaseConfigError(
      'ROUTER_DATABASE_URL: PostgreSQL is not supported yet (the multi-replica store is a planned capability); use sqlite:///path.db',
    );
  }
  let path: string;
  const match = /^sqlite:\/\/(.*)$/i.exec(trimmed);
  if (match) {
    // "sqlite:///data/x.db" leaves "/data/x.db": one leading slash means relative, two mean absolute.
    const rest = match[1]!;
    path = rest.startsWith('/') ? rest.slice(1) : rest;
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new DatabaseConfigError(`ROUTER_DATABASE_URL: unsupported scheme in "${trimmed}" (use sqlite:///path.db or a file path)`);
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
  const path = sqlitePathFromUrl(url, cwd);
  prepareDatabaseFile(path);
  let orm: MikroORM;
  try {
    orm = await MikroORM.init({
      dbName: path,
      entities: ENTITIES,
      extensions: [Migrator],
      migrations: { migrationsList: MIGRATIONS, transactional: true, snapshot: false },
      discovery: { warnWhenNoEntities: false },
      allowGlobalContext: false,
      debug: false,
      logger: (message: string) => logger?.debug(message),
    });
    await orm.em.getConnection().execute('PRAGMA journal_mode = WAL');
    await orm.em.getConnection().execute('PRAGMA busy_timeout = 5000');
    const applied = await orm.getMigrator().up();
    if (applied.length) logger?.info({ migrations: applied.map((m) => m.name), path }, 'database migrated');
  } catch (error) {
    if (error instanceof DatabaseConfigError) throw error;
    throw new DatabaseConfigError(`CRITICAL: cannot open the database ${path}: ${(error as Error).message}`);
  }
  return orm;
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

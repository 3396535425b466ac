/**
 * The two SQL engines behind the store, and the few places where they differ for code that writes
 * plain knex statements (the entities hide the rest):
 * - datetimes: MikroORM keeps them as epoch milliseconds on SQLite and as timestamptz on PostgreSQL,
 *   so a raw write must send a number to one and a Date to the other for entity reads to agree;
 * - LIKE: case-insensitive for ASCII on SQLite, case-sensitive on PostgreSQL (ILIKE there).
 * - reading a datetime back through knex: SQLite gives the number, PostgreSQL (with MikroORM's type
 *   parsers) the timestamptz text; readTime takes either.
 */
export type Dialect = 'sqlite' | 'postgresql';

const dialects = new WeakMap<object, Dialect>();

/** Remembered by openDatabase for each handle it opens. */
export function setDialect(db: object, dialect: Dialect): void {
  dialects.set(db, dialect);
}

/** The engine behind a handle (SQLite for one not opened by openDatabase). */
export function dialectOf(db: object): Dialect {
  return dialects.get(db) ?? 'sqlite';
}

/** A datetime as a raw knex write must send it. */
export function dbTime(db: object, date: Date): number | Date {
  return dialectOf(db) === 'postgresql' ? date : date.getTime();
}

/** A datetime column as a raw knex read returns it: epoch ms (number or numeric text), timestamptz text or a Date. */
export function readTime(value: number | string | Date): Date {
  if (value instanceof Date) return value;
  const n = Number(value);
  return new Date(Number.isFinite(n) ? n : value);
}

/** The case-insensitive LIKE operator for MikroORM filters. */
export function likeOperator(db: object): '$like' | '$ilike' {
  return dialectOf(db) === 'postgresql' ? '$ilike' : '$like';
}

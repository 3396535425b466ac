/**
 * Throwaway PostgreSQL and Redis servers for the scale-out tests: each on a free loopback port, its
 * files in a temp folder, killed and removed on stop. Start each once per test file (a PostgreSQL
 * start is ~1-2 s); give every test its own database with `createDatabase`.
 *
 * When a binary is missing the helpers answer `{ skip: reason }`, so the suite skips with that
 * reason on a developer machine; under CI=true a missing binary is an error (CI installs them with
 * scripts/system-deps.sh). PostgreSQL refuses to run as root: as root it runs as the `postgres`
 * system user (like `runuser -u postgres --`), on a data folder owned by that user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knex } from '@mikro-orm/knex';

const START_TIMEOUT_MS = 20_000;

export interface Service {
  url: string;
  /** Kills the server and removes its files (idempotent). */
  stop(): Promise<void>;
}

export interface PostgresService extends Service {
  /** A fresh empty database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>;
}

export type Started<S> = S | { skip: string };

const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

function missing<S>(reason: string): Started<S> {
  if (inCi()) throw new Error(`${reason} (CI=true: install it with scripts/system-deps.sh)`);
  return { skip: reason };
}

/** A port nobody listens on right now (the OS picks it; the server binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The newest installed PostgreSQL bin folder (Debian keeps one per major version), or PG_BIN. */
export function postgresBin(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : undefined;
}

export function redisBin(): string | undefined {
  for (const candidate of [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const asRoot = (): boolean => process.getuid?.() === 0;

/**
 * As root, PostgreSQL's processes run as the postgres user: the same as `runuser -u postgres --`,
 * but spawned with uid/gid directly so our signals reach postgres itself (runuser does not pass
 * SIGINT on, which turned every fast shutdown into a 5 s wait and a SIGKILL).
 */
function postgresUser(): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(): Promise<Started<PostgresService>> {
  const bin = postgresBin();
  if (!bin) return missing('PostgreSQL server binaries not found (Debian package postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'sr-pg-'));
  const data = join(dir, 'data');
  const user = asRoot() ? postgresUser() : undefined;
  if (asRoot()) {
    if (!user) return missing('running as root but there is no postgres system user to run PostgreSQL as');
    chownSync(dir, user.uid, user.gid);
  }
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    encoding: 'utf8',
    timeout: START_TIMEOUT_MS,
    ...user,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
  }
  const port = await freePort();
  // Durability off: a test database lives for seconds, and fsync would dominate on a busy disk.
  const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const stop = stopper(child, dir);
  try {
    await waitUntil(child, () => pgReady(url), 'PostgreSQL');
  } catch (error) {
    await stop();
    throw error;
  }
  let n = 0;
  return {
    url,
    stop,
    async createDatabase(name: string) {
      const db = `${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${++n}`;
      await pgQuery(url, `create database ${db}`);
      return `postgresql://postgres@127.0.0.1:${port}/${db}`;
    },
  };
}

export async function startRedis(): Promise<Started<Service>> {
  const bin = redisBin();
  if (!bin) return missing('redis-server not found (Debian package redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'sr-redis-'));
  const port = await freePort();
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = stopper(child, dir);
  try {
    await waitUntil(child, () => redisPing(port), 'Redis');
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // SIGINT is PostgreSQL's fast shutdown and a clean stop for Redis; SIGKILL if it lingers.
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })());
}

async function waitUntil(child: ChildProcess, ready: () => Promise<boolean>, name: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start (${child.exitCode}): ${stderr}`);
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not accept connections within ${START_TIMEOUT_MS / 1000} s: ${stderr}`);
}

async function pgQuery(url: string, sql: string): Promise<void> {
  const client = knex({ client: 'pg', connection: { connectionString: url, connectionTimeoutMillis: 2000 } as never, pool: { min: 0, max: 1 } });
  try {
    await client.raw(sql);
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

async function pgReady(url: string): Promise<boolean> {
  try {
    await pgQuery(url, 'select 1');
    return true;
  } catch {
    return false;
  }
}

/** A raw PING, so readiness needs no client library. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

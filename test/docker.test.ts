/**
 * No Docker engine runs here, so the Dockerfile and the compose files are checked statically against
 * the config module and each other: the service, its port, the data volume, the health check, the
 * non-root user, the read-only root and every environment variable name. A renamed variable or a
 * changed default port fails here instead of in a user's `docker compose up`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configFrom, variableNames } from '../src/config/index.js';

const root = new URL('../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

interface ComposeService {
  build?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck?: { test: string[] };
  env_file?: Array<{ path: string; required: boolean }>;
  deploy?: { resources: { reservations: { devices: Array<{ driver: string; capabilities: string[] }> } } };
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const gpu = parse(read('docker-compose.gpu.yml')) as { services: Record<string, ComposeService> };
const dockerfile = read('Dockerfile');
const service = compose.services.smarterrouter!;
const known = new Set(variableNames());
const dockerfileEnv = Object.fromEntries(
  [...dockerfile.matchAll(/^\s*(?:ENV\s+)?(ROUTER_[A-Z0-9_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]),
);

describe('docker-compose.yml', () => {
  it('has the smarterrouter service built from this Dockerfile', () => {
    expect(Object.keys(compose.services)).toEqual(['smarterrouter']);
    expect(service.build).toBe('.');
  });

  it('publishes the port the router listens on', () => {
    const port = Number(service.environment?.ROUTER_PORT ?? configFrom({}).port);
    expect(service.ports).toEqual([`${port}:${port}`]);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    expect(configFrom({}).port).toBe(port);
  });

  it('names only real config variables, with values the config accepts', () => {
    for (const file of [service, gpu.services.smarterrouter!]) {
      for (const name of Object.keys(file.environment ?? {})) expect(known, name).toContain(name);
    }
    for (const name of Object.keys(dockerfileEnv)) expect(known, name).toContain(name);
    // configFrom throws a ConfigError on a bad value.
    const config = configFrom({ ...service.environment });
    expect(config.host).toBe('0.0.0.0');
    expect(configFrom({ ...dockerfileEnv }).databaseUrl).toBe(config.databaseUrl);
  });

  it('keeps the database on a named volume mounted where ROUTER_DATABASE_URL points', () => {
    const [volume, target] = service.volumes![0]!.split(':');
    expect(compose.volumes).toHaveProperty(volume!);
    expect(service.environment!.ROUTER_DATABASE_URL).toBe(`sqlite:///${target}/router.db`);
    expect(dockerfile).toContain(`VOLUME ["${target}"]`);
    expect(dockerfile).toMatch(new RegExp(`mkdir -p ${target} && chown node:node ${target}`));
  });

  it('runs read-only and non-root, with a health check on /health and an optional .env', () => {
    expect(service.read_only).toBe(true);
    expect(service.tmpfs).toContain('/tmp');
    expect(service.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${service.environment!.ROUTER_PORT}/health`);
    expect(service.env_file).toEqual([{ path: '.env', required: false }]);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
  });

  it('reserves NVIDIA GPUs in the GPU override for the same service', () => {
    const devices = gpu.services.smarterrouter!.deploy!.resources.reservations.devices;
    expect(devices[0]).toMatchObject({ driver: 'nvidia', capabilities: ['gpu'] });
  });
});

describe('Dockerfile', () => {
  it('runs the same command as npm start (compiled JavaScript), on the Node major the project supports', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; engines: { node: string } };
    // npm runs scripts through sh: "exec" replaces the shell with node, so npm's SIGTERM reaches the router.
    const [exec, command, ...args] = pkg.scripts.start!.split(/\s+/);
    expect(exec).toBe('exec');
    expect(command).toBe('node');
    expect(dockerfile).toContain(`CMD [${['node', ...args].map((a) => JSON.stringify(a)).join(', ')}]`);
    // The entry point is what the build emits for src/main.ts, and npm start builds it first.
    expect(args.at(-1)).toBe('dist/src/main.js');
    expect(existsSync(new URL('src/main.ts', root))).toBe(true);
    expect(pkg.scripts.prestart).toBe(pkg.scripts.build);
    const major = pkg.engines.node.match(/(\d+)/)![1];
    expect(dockerfile).toMatch(new RegExp(`^FROM node:${major}-`, 'm'));
  });

  it('installs from the lock file without dev dependencies, builds dist/ and ships it instead of the sources', () => {
    expect(dockerfile).toContain('npm ci --omit=dev');
    // The build stage compiles what the router imports; the runtime stage copies only the output.
    for (const dir of ['gen', 'src']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} ./${dir}$`, 'm'));
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist .\/dist$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/node_modules .\/node_modules$/m);
    // The build runs with production dependencies only: every package the build script imports must
    // be a production dependency or one of theirs (esbuild comes with tsx, which the CLI also needs).
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
    const production = new Set(Object.keys(pkg.dependencies).flatMap((d) => [d, ...Object.keys(lock.packages[`node_modules/${d}`]?.dependencies ?? {})]));
    const script = pkg.scripts.build!.replace(/^node /, '');
    const imported = [...read(script).matchAll(/^import .* from '([^.'][^']*)';$/gm)].map((m) => m[1]!).filter((s) => !s.startsWith('node:'));
    expect(imported).toContain('esbuild');
    for (const spec of imported) expect(production, spec).toContain(spec);
    expect(dockerfile).toContain(`COPY ${script} ./${script}`);
  });

  it('is what the README tells people to run', () => {
    const readme = read('README.md');
    expect(readme).toContain('docker compose up -d');
    expect(readme).toContain('docker compose -f docker-compose.yml -f docker-compose.gpu.yml up -d');
    expect(readme).toContain('cp ENV_DEFAULT .env');
    expect(existsSync(new URL('ENV_DEFAULT', root))).toBe(true);
  });
});

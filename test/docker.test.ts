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
  it('starts the same entry point as npm start, on the Node major the project supports', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; engines: { node: string } };
    const entry = pkg.scripts.start!.replace(/^tsx /, '');
    expect(dockerfile).toContain(`CMD ["node", "--import", "tsx", "${entry}"]`);
    expect(existsSync(new URL(entry, root))).toBe(true);
    const major = pkg.engines.node.match(/(\d+)/)![1];
    expect(dockerfile).toMatch(new RegExp(`^FROM node:${major}-`, 'm'));
  });

  it('installs from the lock file without dev dependencies, and copies what the router loads at run time', () => {
    expect(dockerfile).toContain('npm ci --omit=dev');
    for (const dir of ['gen', 'src']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} ./${dir}$`, 'm'));
    // tsx is how the image runs TypeScript: it must be a runtime dependency, not a dev one.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toHaveProperty('tsx');
  });

  it('is what the README tells people to run', () => {
    const readme = read('README.md');
    expect(readme).toContain('docker compose up -d');
    expect(readme).toContain('docker compose -f docker-compose.yml -f docker-compose.gpu.yml up -d');
    expect(readme).toContain('cp ENV_DEFAULT .env');
    expect(existsSync(new URL('ENV_DEFAULT', root))).toBe(true);
  });
});

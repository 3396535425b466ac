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

  it('mounts the GGUF models read-only where ROUTER_GGUF_DIR points (the root file system is read-only)', () => {
    const override = gpu.services.smarterrouter!;
    const dir = configFrom({ ...service.environment, ...override.environment }).ggufDir;
    expect(dir).toMatch(/^\//);
    const mount = override.volumes!.map((v) => v.split(':')).find(([, target]) => target === dir);
    expect(mount, `a volume mounted at ${dir}`).toBeDefined();
    expect(mount![2]).toBe('ro');
    // Not inside a path the base file mounts writable.
    for (const v of service.volumes ?? []) expect(dir.startsWith(v.split(':')[1]!)).toBe(false);
  });

  it('says in its comments that admin, dashboard and CLI from outside need ROUTER_ADMIN_API_KEY', () => {
    const text = read('docker-compose.yml');
    expect(text).toMatch(/^\s*#.*ROUTER_ADMIN_API_KEY/m);
    expect(text).toContain('docker compose exec smarterrouter node dist/src/cli/run.js');
  });
});

describe('docker-compose.replicas.yml', () => {
  const replicasText = read('docker-compose.replicas.yml');
  const replicas = parse(replicasText, { merge: true }) as {
    services: Record<string, ComposeService & { image?: string }>;
    configs: Record<string, { content: string }>;
  };
  const routers = Object.entries(replicas.services).filter(([, s]) => s.image === 'smarterrouter:latest');

  it('trusts exactly the nginx hop in front of the replicas, which reach nothing but it', () => {
    expect(routers.length).toBeGreaterThanOrEqual(2);
    for (const [name, router] of routers) {
      // The value the config accepts, read the way the router reads it (one trusted hop).
      expect(configFrom({ ...router.environment }).trustProxy, name).toBe(1);
      // A hop count is only safe when clients cannot reach the replica directly.
      expect(router.ports, name).toBeUndefined();
      expect(router.read_only, name).toBe(true);
    }
    expect(replicas.services.lb!.ports).toEqual(['11436:11436']);
  });

  it('has nginx append the client address to X-Forwarded-For for every upstream replica', () => {
    const nginx = replicas.configs.nginx!.content;
    // $$ is compose's escape for a literal $.
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-For \$\$proxy_add_x_forwarded_for;/);
    expect(nginx).toMatch(/proxy_pass http:\/\/smarterrouter;/);
    for (const [name] of routers) expect(nginx).toContain(`server ${name}:11436`);
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

  it('holds the compiled CLI the README and docs/deployment.md tell people to run with docker compose exec', () => {
    const command = 'docker compose exec smarterrouter node dist/src/cli/run.js';
    expect(read('README.md')).toContain(command);
    expect(read('docs/deployment.md')).toContain(command);
    // dist/src/cli/run.js is what the build emits for src/cli/run.ts (test/cli-dist.test.ts runs it).
    expect(existsSync(new URL('src/cli/run.ts', root))).toBe(true);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
  });

  it('is what the README tells people to run', () => {
    const readme = read('README.md');
    expect(readme).toContain('docker compose up -d');
    expect(readme).toContain('docker compose -f docker-compose.yml -f docker-compose.gpu.yml up -d');
    expect(readme).toContain('cp ENV_DEFAULT .env');
    expect(existsSync(new URL('ENV_DEFAULT', root))).toBe(true);
  });
});

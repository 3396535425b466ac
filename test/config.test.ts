import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, VARIABLES, configFrom, loadConfig, variableNames } from '../src/config/index.js';
import { renderConfigDocs, renderEnvDefault } from '../src/config/render.js';
import { startTestRouter } from './support/router.js';

describe('config module', () => {
  it('has documented defaults for every variable', () => {
    const config = configFrom();
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(11436);
    expect(config.databaseUrl).toBe('sqlite:///data/router.db');
    expect(config.qualityPreference).toBe(0.5);
    expect(config.externalModelName).toBe('smarterrouter/main');
    expect(config.cacheMaxSize).toBe(500);
    expect(config.cacheResponseMaxSize).toBe(200);
    expect(config.cacheSimilarityThreshold).toBe(0.85);
    expect(config.profilePromptsPerCategory).toBe(3);
    expect(config.vramUnloadThresholdPct).toBe(85);
    expect(config.rateLimitRequestsPerMinute).toBe(60);
    expect(config.rateLimitAdminRequestsPerMinute).toBe(120);
    expect(config.vramMaxTotalGb).toBeUndefined();
    expect(config.adminApiKey).toBeUndefined();
  });

  it('parses typed values', () => {
    const config = configFrom({
      ROUTER_PORT: '8080',
      ROUTER_QUALITY_PREFERENCE: '0.9',
      ROUTER_CASCADING_ENABLED: 'no',
      ROUTER_CORS_ORIGINS: 'http://a.example, http://b.example',
      ROUTER_LOG_FORMAT: 'JSON',
      ROUTER_VRAM_MAX_TOTAL_GB: '22.5',
    });
    expect(config.port).toBe(8080);
    expect(config.qualityPreference).toBe(0.9);
    expect(config.cascadingEnabled).toBe(false);
    expect(config.corsOrigins).toEqual(['http://a.example', 'http://b.example']);
    expect(config.logFormat).toBe('json');
    expect(config.vramMaxTotalGb).toBe(22.5);
  });

  it.each([
    ['ROUTER_PORT', 'abc', /ROUTER_PORT: "abc" is not an integer \(allowed: 0 to 65535\)/],
    ['ROUTER_PORT', '70000', /ROUTER_PORT: 70000 is out of range \(allowed: 0 to 65535\)/],
    ['ROUTER_QUALITY_PREFERENCE', '1.7', /ROUTER_QUALITY_PREFERENCE: 1.7 is out of range \(allowed: 0 to 1\)/],
    ['ROUTER_PROVIDER', 'vllm', /ROUTER_PROVIDER: "vllm" is not allowed \(allowed: ollama, llama.cpp, openai, gguf\)/],
    ['ROUTER_CACHE_ENABLED', 'maybe', /ROUTER_CACHE_ENABLED: "maybe" is not a boolean/],
    ['ROUTER_LOG_LEVEL', 'loud', /ROUTER_LOG_LEVEL: "loud" is not allowed/],
    ['ROUTER_OLLAMA_URL', 'not a url', /ROUTER_OLLAMA_URL: "not a url" is not a URL/],
    ['ROUTER_OLLAMA_URL', 'ftp://x', /must be an http/],
  ])('rejects %s=%s with one clear line', (name, value, message) => {
    let error: unknown;
    try {
      configFrom({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('requires ROUTER_OPENAI_BASE_URL for the openai provider', () => {
    expect(() => configFrom({ ROUTER_PROVIDER: 'openai' })).toThrow(/ROUTER_OPENAI_BASE_URL: is required/);
  });

  it('checks the shape of ROUTER_DATABASE_URL with the other variables (one configuration error at start-up)', () => {
    for (const ok of ['sqlite:///data/router.db', 'sqlite:////abs/router.db', 'data/x.db', '/abs/x.db', 'postgresql://u:p@db:5432/router', 'postgres://db/router']) {
      expect(configFrom({ ROUTER_DATABASE_URL: ok }).databaseUrl).toBe(ok);
    }
    expect(() => configFrom({ ROUTER_DATABASE_URL: 'mysql://root:hunter2@db/router' })).toThrow(
      /^ROUTER_DATABASE_URL: unsupported scheme in "mysql:\/\/\*\*\*@db\/router" \(use sqlite:\/\/\/path.db, a file path, or postgresql:/,
    );
    // Passwords holding "/" or "@" are hidden too, whole.
    for (const url of ['mysql://root:pa/ss@db/router', 'mysql://root:p@ss@db/router', 'mysql://root:s3cr%40t/x@db/router']) {
      let message = '';
      try {
        configFrom({ ROUTER_DATABASE_URL: url });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/unsupported scheme in "mysql:\/\/\*\*\*@db\/router"/);
      expect(message).not.toMatch(/pa\/ss|p@ss|ss@|s3cr|root/);
    }
    expect(() => configFrom({ ROUTER_DATABASE_URL: 'mysql://root:hunter2@db/router' })).toThrow(ConfigError);
    expect(() => configFrom({ ROUTER_DATABASE_URL: 'postgresql://u:hunter2@db:5432/' })).toThrow(/^ROUTER_DATABASE_URL: no database name/);
    expect(() => configFrom({ ROUTER_DATABASE_URL: 'sqlite:///' })).toThrow(/^ROUTER_DATABASE_URL: no file path given/);
    expect(() => configFrom({ ROUTER_DATABASE_URL: 'postgresql://u:hunter2@[bad/x' })).toThrow(/^ROUTER_DATABASE_URL: "postgresql:\/\/\*\*\*@\[bad\/x" is not a valid URL/);
  });

  it.each([
    ['homelab/auto', ['homelab/auto', 'homelab/fast', 'homelab/best']],
    ['auto', ['auto', 'auto-fast', 'auto-best']],
  ])('ROUTER_EXTERNAL_MODEL_NAME=%s renames the aliases in /v1/models (as docs/openwebui.md says)', async (name, ids) => {
    const router = await startTestRouter({ ROUTER_EXTERNAL_MODEL_NAME: name });
    try {
      const listed = ((await (await fetch(`${router.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
      expect(listed).toEqual(expect.arrayContaining(ids));
      expect(listed.filter((id) => id.includes('smarterrouter'))).toEqual([]);
    } finally {
      await router.stop();
    }
  });

  it('reads a .env file under the environment (the environment wins)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'ROUTER_PORT=9000\nROUTER_LOG_LEVEL=debug\n# comment\nROUTER_MODEL_PREFIX="lab/"\n');
    const config = loadConfig({ env: { ROUTER_PORT: '9100' }, envFile: file });
    expect(config.port).toBe(9100);
    expect(config.logLevel).toBe('debug');
    expect(config.modelPrefix).toBe('lab/');
  });

  it('a bad value in .env is reported like one from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'ROUTER_QUALITY_PREFERENCE=high\n');
    expect(() => loadConfig({ env: {}, envFile: file })).toThrow(/ROUTER_QUALITY_PREFERENCE: "high" is not a number/);
  });

  describe('backends', () => {
    it('falls back to the single-backend variables', () => {
      expect(configFrom().backendSpecs).toEqual([{ name: 'ollama', kind: 'ollama', location: 'http://localhost:11434' }]);
      expect(configFrom({ ROUTER_PROVIDER: 'llama.cpp', ROUTER_LLAMA_CPP_URL: 'http://gpu:8080/' }).backendSpecs).toEqual([
        { name: 'llamacpp', kind: 'llama.cpp', location: 'http://gpu:8080' },
      ]);
      expect(
        configFrom({ ROUTER_PROVIDER: 'openai', ROUTER_OPENAI_BASE_URL: 'https://api.example.com/v1', ROUTER_OPENAI_API_KEY: 'sk-x' }).backendSpecs,
      ).toEqual([{ name: 'openai', kind: 'openai', location: 'https://api.example.com/v1', apiKey: 'sk-x' }]);
    });

    it('parses ROUTER_BACKENDS with per-backend keys', () => {
      const config = configFrom({
        ROUTER_BACKENDS: 'gpu=ollama:http://10.0.0.5:11434,local=gguf:/models, cloud=openai:https://api.example.com/v1',
        ROUTER_BACKEND_CLOUD_API_KEY: 'sk-cloud',
      });
      expect(config.backendSpecs).toEqual([
        { name: 'gpu', kind: 'ollama', location: 'http://10.0.0.5:11434', apiKey: undefined },
        { name: 'local', kind: 'gguf', location: '/models', apiKey: undefined },
        { name: 'cloud', kind: 'openai', location: 'https://api.example.com/v1', apiKey: 'sk-cloud' },
      ]);
    });

    it.each([
      ['gpu', /is not name=kind:location/],
      ['gpu=ollama', /is not name=kind:location/],
      ['=ollama:http://x', /is not name=kind:location/],
      ['g pu=ollama:http://x', /must be letters/],
      ['a=ollama:http://x,a=ollama:http://y', /used twice/],
      ['a=ollama:/not/a/url', /must be an http\(s\) URL/],
    ])('rejects ROUTER_BACKENDS=%s', (value, message) => {
      expect(() => configFrom({ ROUTER_BACKENDS: value })).toThrow(message);
    });
  });

  // Every typed variable (number, integer, boolean, choice, URL...), including those added later,
  // refuses a nonsense value at start-up with a ConfigError naming it, never a silent default.
  const typed = Object.values(VARIABLES).filter((v) => {
    try {
      v.parse('definitely-not-valid');
      return false;
    } catch {
      return true;
    }
  });
  it('most variables are typed (the list below is not empty by accident)', () => {
    expect(typed.length).toBeGreaterThan(40);
  });
  it.each(typed.map((v) => [v.env]))('rejects a nonsense value for %s with a line naming it', (name) => {
    expect(() => configFrom({ [name]: 'definitely-not-valid' })).toThrow(new RegExp(`^${name}: `));
  });

  it('ENV_DEFAULT and docs/configuration.md list exactly the module variables and are up to date', () => {
    const envDefault = readFileSync(new URL('../ENV_DEFAULT', import.meta.url), 'utf8');
    const listed = [...envDefault.matchAll(/^(ROUTER_[A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(variableNames().sort());
    expect(envDefault).toBe(renderEnvDefault());
    expect(readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8')).toBe(renderConfigDocs());
  });
});

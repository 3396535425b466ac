import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, VARIABLES, configFrom, loadConfig } from '../src/config/index.js';

function envFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sr-envfix-')), '.env');
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function load(env: Record<string, string>, file: string | false = false): { warnings: string[] } {
  const warnings: string[] = [];
  loadConfig({ env, envFile: file, onWarning: (w) => warnings.push(w) });
  return { warnings };
}

describe('.env parsing', () => {
  it('reports a line without "=" with the file and line number, and never glues it to the next line', () => {
    const file = envFile('oops\nROUTER_LOG_LEVEL=loud\n');
    const error = errorOf(() => loadConfig({ env: {}, envFile: file, onWarning: () => {} }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${file} line 1: expected NAME=value (or a # comment)`);
  });

  it('reports a malformed line in the middle with its own number', () => {
    const file = envFile('# comment\nROUTER_PORT=9000\n\nnot a variable line\nROUTER_HOST=127.0.0.1\n');
    expect(errorOf(() => loadConfig({ env: {}, envFile: file })).message).toBe(`${file} line 4: expected NAME=value (or a # comment)`);
  });

  it('the line after a fixed bad line is read normally (the invalid value is seen)', () => {
    const file = envFile('# oops\nROUTER_LOG_LEVEL=loud\n');
    expect(errorOf(() => loadConfig({ env: {}, envFile: file })).message).toMatch(/^ROUTER_LOG_LEVEL: "loud" is not allowed/);
  });

  it('supports comments, blank lines, export, quotes, trailing comments and CRLF', () => {
    const file = envFile(
      [
        '\uFEFF# SmarterRouter',
        '',
        '   # indented comment',
        'export ROUTER_PORT=9000',
        'ROUTER_HOST = 127.0.0.1   # listen locally',
        'ROUTER_MODEL_PREFIX="lab/" # quoted, then a comment',
        "ROUTER_REDIS_PREFIX='a b #c'",
        'ROUTER_SIGNATURE_FORMAT="say \\"hi\\"\\n{model}"',
        'ROUTER_ADMIN_API_KEY=abc#123',
        'ROUTER_EMBED_MODEL=`nomic`',
        'ROUTER_JUDGE_MODEL=',
        'ROUTER_PINNED_MODEL= # nothing',
      ].join('\r\n') + '\r\n',
    );
    const config = loadConfig({ env: {}, envFile: file, onWarning: () => {} });
    expect(config.port).toBe(9000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.modelPrefix).toBe('lab/');
    expect(config.redisPrefix).toBe('a b #c');
    expect(config.signatureFormat).toBe('say "hi"\n{model}');
    expect(config.adminApiKey).toBe('abc#123');
    expect(config.embedModel).toBe('nomic');
    expect(config.judgeModel).toBeUndefined();
    expect(config.pinnedModel).toBeUndefined();
  });

  it.each([
    ['ROUTER_MODEL_PREFIX="lab/\nROUTER_PORT=1\n', /line 1: unclosed " quote/],
    ["ROUTER_MODEL_PREFIX='lab/' extra\n", /line 1: unexpected text after the closing ' quote/],
    ['=value\n', /line 1: expected NAME=value/],
    ['ROUTER PORT=1\n', /line 1: expected NAME=value/],
  ])('rejects %j', (text, message) => {
    const file = envFile(text);
    const error = errorOf(() => loadConfig({ env: {}, envFile: file }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(file)).toBe(true);
  });
});

describe('unknown ROUTER_* variables', () => {
  it('warns about a misspelt variable with the closest known name', () => {
    const { warnings } = load({ ROUTER_POLING_INTERVAL: '5' });
    expect(warnings).toEqual(['ROUTER_POLING_INTERVAL is not a known variable and is ignored; did you mean ROUTER_POLLING_INTERVAL?']);
  });

  it('warns about unknown variables from .env as well, and still starts', () => {
    const file = envFile('ROUTER_CACHE_ENABLE=false\n');
    const warnings: string[] = [];
    const config = loadConfig({ env: {}, envFile: file, onWarning: (w) => warnings.push(w) });
    expect(config.cacheEnabled).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('ROUTER_CACHE_ENABLE is not a known variable and is ignored; did you mean ROUTER_CACHE_ENABLED?')]);
  });

  it('catches a wrong case', () => {
    expect(load({ router_port: '1' }).warnings).toEqual([expect.stringMatching(/^router_port .*did you mean ROUTER_PORT\?$/)]);
  });

  it('does not warn about known variables, per-backend keys of configured backends, or other tools', () => {
    const env: Record<string, string> = Object.fromEntries(Object.values(VARIABLES).map((v) => [v.env, '']));
    env.ROUTER_BACKENDS = 'gpu=ollama:http://10.0.0.5:11434,my-cloud=openai:https://api.example.com/v1';
    env.ROUTER_BACKEND_GPU_API_KEY = 'k1';
    env.ROUTER_BACKEND_MY_CLOUD_API_KEY = 'k2';
    env.ROUTER_BACKEND_MY_CLOUD_OPTIONS = '{"maxTokensField":"max_completion_tokens"}';
    env.ROUTER_API_KEY = 'cli-key';
    env.PATH = '/bin';
    env.SMARTERROUTER_URL = 'http://x';
    expect(load(env).warnings).toEqual([]);
  });

  it('warns about a per-backend key naming no configured backend', () => {
    const { warnings } = load({ ROUTER_BACKENDS: 'gpu=ollama:http://10.0.0.5:11434', ROUTER_BACKEND_GPUU_API_KEY: 'k' });
    expect(warnings).toEqual([expect.stringMatching(/^ROUTER_BACKEND_GPUU_API_KEY is not used: .*did you mean ROUTER_BACKEND_GPU_API_KEY\?$/)]);
    expect(load({ ROUTER_BACKEND_GPU_API_KEY: 'k' }).warnings).toEqual([expect.stringMatching(/^ROUTER_BACKEND_GPU_API_KEY is not used: ROUTER_BACKENDS is unset/)]);
  });

  it('reads ROUTER_BACKEND_<NAME>_OPTIONS as a JSON object for that backend, refusing bad JSON and the settings that have their own variables', () => {
    const backends = 'gpu=ollama:http://10.0.0.5:11434,acme=smarterrouter-backend-acme:https://api.acme.test';
    const config = configFrom({ ROUTER_BACKENDS: backends, ROUTER_BACKEND_ACME_OPTIONS: '{"region":"eu","retries":2}' });
    expect(config.backendSpecs.find((b) => b.name === 'acme')?.options).toEqual({ region: 'eu', retries: 2 });
    expect(config.backendSpecs.find((b) => b.name === 'gpu')?.options).toBeUndefined();
    const error = (env: Record<string, string>) => {
      try {
        configFrom({ ROUTER_BACKENDS: backends, ...env });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(error({ ROUTER_BACKEND_ACME_OPTIONS: '{region: eu}' })).toMatchObject({ variable: 'ROUTER_BACKEND_ACME_OPTIONS', message: expect.stringContaining('is not valid JSON') });
    expect(error({ ROUTER_BACKEND_ACME_OPTIONS: '["eu"]' }).message).toContain('must be a JSON object');
    expect(error({ ROUTER_BACKEND_ACME_OPTIONS: '{"apiKey":"sk"}' }).message).toContain('"apiKey" is set by ROUTER_BACKENDS and ROUTER_BACKEND_ACME_API_KEY');
    const { warnings } = load({ ROUTER_BACKENDS: 'gpu=ollama:http://10.0.0.5:11434', ROUTER_BACKEND_GPUU_OPTIONS: '{}' });
    expect(warnings).toEqual([expect.stringMatching(/^ROUTER_BACKEND_GPUU_OPTIONS is not used: .*did you mean ROUTER_BACKEND_GPU_OPTIONS\?$/)]);
  });

  it('reads ROUTER_PLUGIN_OPTIONS as plugin name -> options object', () => {
    expect(configFrom({ ROUTER_PLUGIN_OPTIONS: '{"smarterrouter-judge-acme":{"strictness":0.8}}' }).pluginOptions).toEqual({ 'smarterrouter-judge-acme': { strictness: 0.8 } });
    expect(configFrom({}).pluginOptions).toEqual({});
    expect(() => configFrom({ ROUTER_PLUGIN_OPTIONS: '{"x": 1}' })).toThrow(/ROUTER_PLUGIN_OPTIONS: the options of "x" must be a JSON object/);
    expect(() => configFrom({ ROUTER_PLUGIN_OPTIONS: 'strict' })).toThrow(/ROUTER_PLUGIN_OPTIONS: is not valid JSON/);
  });

  it('configFrom stays silent; loadConfig writes warnings to stderr by default', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      configFrom({ ROUTER_POLING_INTERVAL: '5' });
      expect(write).not.toHaveBeenCalled();
      loadConfig({ env: { ROUTER_POLING_INTERVAL: '5' }, envFile: false });
      expect(write).toHaveBeenCalledWith('smarterrouter: warning: ROUTER_POLING_INTERVAL is not a known variable and is ignored; did you mean ROUTER_POLLING_INTERVAL?\n');
    } finally {
      write.mockRestore();
    }
  });
});

describe('external model name and aliases', () => {
  it('rejects an external name equal to a default alias id, naming both variables', () => {
    const error = errorOf(() => configFrom({ ROUTER_EXTERNAL_MODEL_NAME: 'smarterrouter/fast' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('ROUTER_EXTERNAL_MODEL_NAME');
    expect(error.message).toMatch(/^ROUTER_EXTERNAL_MODEL_NAME: "smarterrouter\/fast" is also the id of the alias "fast" .*ROUTER_MODEL_ALIASES/);
    expect(error.message).not.toContain('\n');
  });

  it('rejects a collision with a configured alias', () => {
    expect(() => configFrom({ ROUTER_EXTERNAL_MODEL_NAME: 'lab/turbo', ROUTER_MODEL_ALIASES: 'turbo=0.1' })).toThrow(/alias "turbo"/);
  });

  it('accepts names that do not collide', () => {
    expect(configFrom({ ROUTER_EXTERNAL_MODEL_NAME: 'lab/fast', ROUTER_MODEL_ALIASES: 'quick=0.1' }).externalModelName).toBe('lab/fast');
    expect(configFrom({ ROUTER_EXTERNAL_MODEL_NAME: 'fast' }).externalModelName).toBe('fast');
    expect(configFrom({ ROUTER_EXTERNAL_MODEL_NAME: 'smarterrouter/fastest' }).externalModelName).toBe('smarterrouter/fastest');
  });
});

describe('numbers are plain decimals', () => {
  it.each(['0x10', '1e3', '1E3', 'Infinity', '-Infinity', '0b1', '0o7', '1_000', '1.', '.', '--1', '1,5', 'NaN'])(
    'ROUTER_SHUTDOWN_TIMEOUT=%s is refused',
    (value) => {
      const error = errorOf(() => configFrom({ ROUTER_SHUTDOWN_TIMEOUT: value }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/^ROUTER_SHUTDOWN_TIMEOUT: ".*" is not a number \(plain decimal digits/);
    },
  );

  it.each(['0x10', '1e3', '10.0', '1.5', 'Infinity'])('integer ROUTER_PORT=%s is refused', (value) => {
    expect(() => configFrom({ ROUTER_PORT: value })).toThrow(/^ROUTER_PORT: ".*" is not an integer/);
  });

  it.each(['0x1', '1e-1', 'Infinity'])('ROUTER_VRAM_MAX_TOTAL_GB=%s and alias preferences are refused', (value) => {
    expect(() => configFrom({ ROUTER_VRAM_MAX_TOTAL_GB: value })).toThrow(/is not a number/);
    expect(() => configFrom({ ROUTER_MODEL_ALIASES: `fast=${value}` })).toThrow(/ROUTER_MODEL_ALIASES/);
  });

  it('accepts plain decimals, with surrounding spaces trimmed', () => {
    expect(configFrom({ ROUTER_SHUTDOWN_TIMEOUT: '2.5' }).shutdownTimeout).toBe(2.5);
    expect(configFrom({ ROUTER_SHUTDOWN_TIMEOUT: ' 5 ' }).shutdownTimeout).toBe(5);
    expect(configFrom({ ROUTER_QUALITY_PREFERENCE: '.25' }).qualityPreference).toBe(0.25);
    expect(configFrom({ ROUTER_QUALITY_PREFERENCE: '+1' }).qualityPreference).toBe(1);
    expect(configFrom({ ROUTER_MODEL_ALIASES: 'fast=0.1,best=1' }).modelAliases).toEqual([
      { name: 'fast', qualityPreference: 0.1 },
      { name: 'best', qualityPreference: 1 },
    ]);
  });
});

describe('API keys', () => {
  it('refuses a key no client can send as a Bearer token, without showing it', () => {
    for (const [name, value] of [
      ['ROUTER_ADMIN_API_KEY', 'hunter 2xyz'],
      ['ROUTER_ADMIN_API_KEY', 'tab\tQ9zz'],
      ['ROUTER_API_KEYS', 'sk-good,sk bad7'],
      ['ROUTER_API_KEYS', 'sk-good,clé9'],
    ] as const) {
      const error = errorOf(() => configFrom({ [name]: value }));
      expect(error, value).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(new RegExp(`^${name}: .*Authorization: Bearer`));
      expect(error.message).not.toContain(value.split(/[ ,\t]/).at(-1)!);
    }
    expect(errorOf(() => configFrom({ ROUTER_API_KEYS: 'sk-good,sk bad7' })).message).toContain('key 2');
  });

  it('accepts printable keys, trimmed, and ignores empty list items', () => {
    const config = configFrom({ ROUTER_ADMIN_API_KEY: 'adm!n#Key~1', ROUTER_API_KEYS: ' sk-a , ,sk-b/+=' });
    expect(config.adminApiKey).toBe('adm!n#Key~1');
    expect(config.apiKeys).toEqual(['sk-a', 'sk-b/+=']);
  });
});

describe('values checked at start-up instead of failing later', () => {
  it('ROUTER_CORS_ORIGINS takes * or origins, nothing else', () => {
    expect(configFrom({ ROUTER_CORS_ORIGINS: 'https://chat.example.com, http://localhost:3000/' }).corsOrigins).toEqual(['https://chat.example.com', 'http://localhost:3000']);
    for (const bad of ['not a url', 'https://chat.example.com/path', 'chat.example.com', 'ftp://x.example']) {
      expect(errorOf(() => configFrom({ ROUTER_CORS_ORIGINS: bad })).message, bad).toMatch(/^ROUTER_CORS_ORIGINS: .* is not an origin/);
    }
  });

  it('ROUTER_MODEL_KEEP_ALIVE takes a Go duration or seconds, and names itself when wrong', () => {
    for (const ok of ['5m', '1h30m', '-1', '300', '0']) expect(configFrom({ ROUTER_MODEL_KEEP_ALIVE: ok }).modelKeepAlive).toBe(ok);
    expect(errorOf(() => configFrom({ ROUTER_MODEL_KEEP_ALIVE: 'forever' })).message).toBe('ROUTER_MODEL_KEEP_ALIVE: "forever" is not a Go duration ("5m", "1h30m"), a number of seconds, or -1 (forever)');
  });

  it('ROUTER_STREAM_KEEPALIVE and ROUTER_CACHE_SEMANTIC_ENABLED refuse bad values with one line naming them', () => {
    expect(configFrom({ ROUTER_STREAM_KEEPALIVE: '2.5' }).streamKeepalive).toBe(2.5);
    expect(configFrom({}).streamKeepalive).toBe(10);
    expect(errorOf(() => configFrom({ ROUTER_STREAM_KEEPALIVE: '-1' })).message).toMatch(/^ROUTER_STREAM_KEEPALIVE: /);
    expect(errorOf(() => configFrom({ ROUTER_STREAM_KEEPALIVE: 'soon' })).message).toMatch(/^ROUTER_STREAM_KEEPALIVE: /);
    expect(configFrom({ ROUTER_CACHE_SEMANTIC_ENABLED: 'false' }).cacheSemanticEnabled).toBe(false);
    expect(errorOf(() => configFrom({ ROUTER_CACHE_SEMANTIC_ENABLED: 'maybe' })).message).toMatch(/^ROUTER_CACHE_SEMANTIC_ENABLED: /);
  });
});

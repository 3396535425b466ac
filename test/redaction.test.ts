/**
 * Log redaction: secrets sent by clients (headers, query strings, bodies, RPC fields echoed in
 * error messages) and held by the router (backend URLs with user:pass@, backend API keys) never
 * reach a log line, at debug level, in either format. The log stream is captured from a real
 * router serving real requests; the pattern rules are also checked one by one.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, formatTextLine } from '../src/server/logger.js';
import { redactLine, redactText, REDACTED } from '../src/server/redact.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const SECRETS = {
  clientBearer: 'sk-client-secret-111aaa',
  xApiKey: 'XAPIKEY-secret-222',
  backendUrlPassword: 'hunter2pass',
  backendApiKey: 'sk-backendsecret123456',
  bodyApiKey: 'BODYSECRET-abc',
  promptKey: 'sk-proj-PROMPTSECRET123',
  formPassword: 'hunter3pw',
  querySecret: 'QUERYSECRET123',
  rpcSecret: 'sk-rpcsecret-444bbb',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV',
  proxyToken: 'ghp_PROXYTOKEN9f8e7d6c',
};

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe.each(['json', 'text'] as const)('a router logging at debug level in %s format', (format) => {
  let sim: RunningSimulator;
  let router: TestRouter;
  const out = capture();

  beforeAll(async () => {
    sim = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }] });
    router = await startTestRouter(
      {
        // A second backend whose URL carries credentials (and is down, so its failures get logged too).
        ROUTER_BACKENDS: `sim=ollama:${sim.url},cloud=openai:http://admin:${SECRETS.backendUrlPassword}@127.0.0.1:9/v1`,
        ROUTER_BACKEND_CLOUD_API_KEY: SECRETS.backendApiKey,
        ROUTER_LOG_LEVEL: 'debug',
        ROUTER_LOG_FORMAT: format,
        ROUTER_CACHE_ENABLED: 'false',
      },
      { logDestination: out.stream },
    );

    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${SECRETS.clientBearer}`,
      'x-api-key': SECRETS.xApiKey,
      'proxy-authorization': `Basic ${SECRETS.proxyToken}`,
    };
    // Accepted.
    await (await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ messages: [{ role: 'user', content: `my key is ${SECRETS.promptKey}` }], max_tokens: 4 }) })).text();
    // Rejected: its body is previewed in the debug line.
    await (
      await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          messages: [{ role: 'user', content: `key ${SECRETS.promptKey}, form password=${SECRETS.formPassword}, token ${SECRETS.jwt}, url https://bob:${SECRETS.backendUrlPassword}@example.com/` }],
          api_key: SECRETS.bodyApiKey,
          temperature: 9,
        }),
      })
    ).text();
    // A query-string secret in the URL of the "request completed" line (and an unknown parameter).
    await (await fetch(`${router.url}/admin/explain?prompt=hi&api_key=${SECRETS.querySecret}`, { headers })).text();
    // A secret echoed by an RPC's INVALID_ARGUMENT message.
    await (
      await fetch(`${router.url}/smarterrouter.v1.RouterService/Chat`, {
        method: 'POST',
        headers: { ...headers, 'connect-protocol-version': '1' },
        body: JSON.stringify({ messages: [{ role: 'ROLE_USER', content: 'hi' }], toolChoice: SECRETS.rpcSecret }),
      })
    ).text();
    // A backend model name carrying a credential, echoed in a 404.
    await (await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: `m-${SECRETS.promptKey}`, messages: [{ role: 'user', content: 'hi' }] }) })).text();
    await router.core.store.flush();
  });

  afterAll(async () => {
    await router?.stop();
    await sim?.close();
  });

  it('writes debug lines, including the rejected body and the rejected RPC', () => {
    const text = out.text();
    if (format === 'json') {
      const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.level === 20)).toBe(true);
      const rejected = lines.find((l) => l.msg === 'request rejected' && typeof l.body === 'string' && (l.body as string).includes('temperature'));
      expect(rejected?.body).toContain(REDACTED);
      expect(lines.some((l) => l.msg === 'rpc rejected')).toBe(true);
    } else {
      expect(text).toMatch(/ DEBUG /);
      expect(text).toMatch(/request rejected .*body=/);
      expect(text).toMatch(/rpc rejected/);
    }
    expect(text).toContain(REDACTED);
  });

  it('never writes a secret', () => {
    const text = out.text();
    for (const [name, secret] of Object.entries(SECRETS)) expect(text.includes(secret), `${name} leaked`).toBe(false);
  });

  it('keeps the rest of each line readable', () => {
    const text = out.text();
    expect(text).toContain('request completed');
    expect(text).toContain('/v1/chat/completions');
    expect(text).toContain('127.0.0.1:9');
  });
});

describe('redaction rules', () => {
  const cases: Array<[string, string, string]> = [
    ['an OpenAI key', 'failed with key sk-proj-abc123XYZ789', 'failed with key [redacted]'],
    ['a Bearer header quoted in text', 'sent Authorization: Bearer abc.def-123', 'sent Authorization: Bearer [redacted]'],
    ['ordinary words after "token" stay', 'no first token within 60000 ms; basic setup done', 'no first token within 60000 ms; basic setup done'],
    ['api_key in a query string', '/v1/x?api_key=abc123&model=m', '/v1/x?api_key=[redacted]&model=m'],
    ['apiKey in quoted JSON', 'body {"apiKey": "k-1234"}', 'body {"apiKey": "[redacted]"}'],
    ['password= in a form', 'user=bob&password=s3cret!', 'user=bob&password=[redacted]'],
    ['user:pass@ in a URL', 'connect ECONNREFUSED http://bob:pw@10.0.0.5:11434/api/tags', 'connect ECONNREFUSED http://[redacted]@10.0.0.5:11434/api/tags'],
    ['a token@ URL', 'git clone https://ghp_abc@github.com/x/y', 'git clone https://[redacted]@github.com/x/y'],
    ['a long base64 run', 'data QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk= end', 'data [redacted] end'],
    [
      "llama.cpp naming a GGUF tokenizer key after 'token:'",
      "load: bad special token: 'tokenizer.ggml.eot_token_id' = 128009, using default id -1",
      "load: bad special token: 'tokenizer.ggml.eot_token_id' = 128009, using default id -1",
    ],
    ['token= with a secret that merely starts like a tokenizer key', 'token=tokenizer.ggml.X9secret&x=1', 'token=[redacted]&x=1'],
    ['password= never spared for a tokenizer-like value', 'password=tokenizer.ggml.eos', 'password=[redacted]'],
    ['token: with a real value next to a tokenizer key', "token: 'tok-123abc' tokenizer.ggml.bos_token_id", "token: '[redacted]' tokenizer.ggml.bos_token_id"],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('leaves ids, hashes, UUIDs, paths and prose alone', () => {
    const keep = [
      'chatcmpl-0123456789abcdef0123456789abcdef',
      '123e4567-e89b-12d3-a456-426614174000',
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      '/work/main/node_modules/fastify/lib/route.js:373:19',
      'the model failed before its first token (timeout)',
      'completion_tokens=12 prompt_tokens=30',
    ];
    for (const text of keep) expect(redactText(text)).toBe(text);
  });

  it('strips control characters and bidi overrides, keeps tabs and newlines', () => {
    expect(redactText('a\u0000b\u001b[31mc\u001b[0m\u202ed\u0085e\tf\ng')).toBe('abcde\tf\ng');
    expect(redactText('lone \ud800 surrogate')).toBe('lone \ufffd surrogate');
  });

  it('redacts secret-named keys at any depth and keeps the line valid JSON', () => {
    const line = JSON.stringify({ level: 20, a: { b: { c: { Authorization: 'x', 'X-Api-Key': 'y', client_secret: 'z', tokens: 5 } } }, msg: 'm' });
    const parsed = JSON.parse(redactLine(line)) as { a: { b: { c: Record<string, unknown> } } };
    expect(parsed.a.b.c).toEqual({ Authorization: REDACTED, 'X-Api-Key': REDACTED, client_secret: REDACTED, tokens: 5 });
  });

  it('finds a long base64 run wherever it sits in a line (the fast test sees every run of 40+)', () => {
    const run = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk=';
    for (const value of [run, `prefix-${run}`, `a/b+c_${run}`, `x ${run} y`]) {
      const line = `${JSON.stringify({ level: 30, reqId: '123e4567-e89b-12d3-a456-426614174000', note: value, msg: 'm' })}\n`;
      expect(redactLine(line)).not.toContain(run);
    }
  });

  it('keeps a llama.cpp warning about a GGUF tokenizer key readable in a JSON log line', () => {
    const msg = "load: bad special token: 'tokenizer.ggml.eot_token_id' = 128009, using default id -1";
    const line = `${JSON.stringify({ level: 40, backend: 'gguf', msg })}\n`;
    expect((JSON.parse(redactLine(line)) as { msg: string }).msg).toBe(msg);
  });

  it('returns a clean line untouched (the fast path)', () => {
    const line = '{"level":30,"time":"2026-11-28T10:00:00.000Z","reqId":"r1","url":"/health","status":200,"msg":"request completed"}\n';
    expect(redactLine(line)).toBe(line);
  });

  it('censors secret-named keys nested anywhere in a logged object (no wildcard paths needed)', async () => {
    const out = capture();
    const logger = createLogger({ logLevel: 'info', logFormat: 'json' }, out.stream);
    logger.info(
      { upstream: { headers: { authorization: 'Basic dXNlcjpodW50ZXIy', 'x-api-key': 'nested-key-1' }, apiKey: 'nested-key-2', api_key: 'nested-key-3', password: 'nested-pw-4' } },
      'calling the backend',
    );
    await new Promise((r) => setImmediate(r));
    const text = out.text();
    for (const secret of ['dXNlcjpodW50ZXIy', 'nested-key-1', 'nested-key-2', 'nested-key-3', 'nested-pw-4']) expect(text).not.toContain(secret);
    const entry = JSON.parse(text.trim()) as { upstream: { headers: Record<string, string>; apiKey: string; password: string } };
    expect(entry.upstream.headers.authorization).toBe(REDACTED);
    expect(entry.upstream.apiKey).toBe(REDACTED);
    expect(entry.upstream.password).toBe(REDACTED);
  });

  it('applies at trace level and to child loggers too', () => {
    const out = capture();
    const logger = createLogger({ logLevel: 'trace', logFormat: 'json' }, out.stream);
    logger.child({ plugin: 'x', url: 'http://u:childpw@h/' }).trace({ err: new Error('upstream said api_key=tracesecret') }, 'Bearer abcdef123456');
    const text = out.text();
    expect(text).not.toContain('childpw');
    expect(text).not.toContain('tracesecret');
    expect(text).not.toContain('abcdef123456');
    expect(text).toContain('"level":10');
  });

  it('keeps a text line one line: a newline in a message cannot forge another', () => {
    const line = formatTextLine(JSON.stringify({ level: 30, time: '2026-11-28T10:00:00.123Z', msg: 'hi\n10:00:00.124 ERROR forged' }));
    expect(line.trimEnd().split('\n')).toHaveLength(1);
  });
});

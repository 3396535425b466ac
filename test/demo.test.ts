/**
 * `npm run demo` as a newcomer runs it: one command starts a simulated fleet and the router, prints
 * where to point a client, and that client gets routed answers.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

it('npm run demo prints where to point a client, and routes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sr-demo-'));
  const child = spawn('npm', ['run', '--silent', 'demo'], {
    cwd: ROOT,
    env: { ...process.env, ROUTER_PORT: '0', ROUTER_HOST: '127.0.0.1', ROUTER_DATABASE_URL: join(dir, 'demo.db') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    let out = '';
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no client URL printed; output so far:\n${out}`)), 25_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Point an OpenAI client at:\s+(http:\/\/\S+\/v1)\s+model: (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
    });
    expect(out).toContain('qwen2.5-coder:7b');
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'Prove that the square root of 2 is irrational.' }], max_tokens: 400 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-router-model')).toBeTruthy();
    // A thinking model may spend a small budget on reasoning: either part counts as an answer.
    const body = (await res.json()) as { choices: Array<{ message: { content: string | null; reasoning_content?: string } }> };
    const message = body.choices[0]!.message;
    expect((message.content ?? '') + (message.reasoning_content ?? '')).not.toBe('');
  } finally {
    // The whole process group: npm and the demo under it.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}, 40_000);

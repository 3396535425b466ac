/**
 * The admin dashboard in a real browser: Debian's headless Chromium driven by playwright-core (no
 * browser download). A router with simulated backends, a fake nvidia-smi and some traffic serves
 * /dashboard; the test waits for every chart to draw from live data, opens one decision's
 * explanation, then checks the screenshot pixels: each chart area must hold chart colours, not just
 * the card background. The screenshot is kept in test-results/dashboard.png.
 *
 * .ci/run installs chromium; elsewhere the test is skipped with the reason (but fails under CI=true).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`CI needs Chromium at ${CHROMIUM} (scripts/system-deps.sh installs Debian's chromium)`);

const ADMIN_KEY = 'dashboard-test-admin-key';
const CHARTS = ['backends', 'cache', 'routing-models', 'routing-categories', 'profiles', 'vram'] as const;
const originalPath = process.env.PATH;

/**
 * document.getElementById inside the page. Functions passed to waitForFunction run in the browser
 * (the page's CSP forbids the string form); this Node-typed file has no DOM types, hence the cast.
 */
declare const page$: (id: string) => { dataset: Record<string, string>; textContent: string | null } | null;
const PAGE_HELPERS = 'globalThis.page$ = (id) => document.getElementById(id);';

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!available)('admin dashboard in headless Chromium', () => {
  let ollama: RunningSimulator;
  let router: TestRouter;
  let browser: Browser;

  beforeAll(async () => {
    // A GPU whose use moves with the clock, so the VRAM chart has a line to draw.
    const bin = await mkdtemp(join(tmpdir(), 'sr-dash-nvsmi-'));
    await writeFile(
      join(bin, 'nvidia-smi'),
      '#!/bin/sh\nu=$(( 6000 + ($(date +%s) % 7) * 900 ))\necho "0, NVIDIA GeForce RTX 3090, 24576, $u, $((24576 - u)), 40, 61"\n',
    );
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    process.env.PATH = `${bin}:${originalPath}`;

    ollama = await startOllamaSimulator({
      models: [
        { id: 'qwen2.5-coder:7b', parameterSizeB: 7.6, quality: { coding: 0.92, reasoning: 0.6, creativity: 0.35, general: 0.5 } },
        { id: 'llama3.2:3b', parameterSizeB: 3.2, quality: { coding: 0.4, reasoning: 0.45, creativity: 0.8, general: 0.75 } },
        { id: 'qwen2.5:14b', parameterSizeB: 14.8, quality: { coding: 0.7, reasoning: 0.9, creativity: 0.6, general: 0.7 } },
      ],
    });
    router = await startTestRouter({
      ROUTER_OLLAMA_URL: ollama.url,
      ROUTER_VRAM_MONITOR_ENABLED: 'true',
      ROUTER_VRAM_MONITOR_INTERVAL: '1',
      ROUTER_PROFILE_ON_STARTUP: 'true',
      ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1',
      ROUTER_CACHE_ENABLED: 'true',
      ROUTER_ADMIN_API_KEY: ADMIN_KEY,
    });
    const chat = (content: string) =>
      fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smarterrouter/main', temperature: 0, messages: [{ role: 'user', content }] }),
      }).then((r) => r.text());
    for (const prompt of [
      'write a python function that merges two sorted lists',
      'prove that the square root of 2 is irrational',
      'write a limerick about a cat who learns to code',
      'what is the capital of portugal',
      'write a python function that merges two sorted lists',
      'solve 3x + 7 = 22 step by step',
    ]) {
      await chat(prompt);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    // Profiles come from the background profiler; the dashboard only shows what exists.
    await until(async () => {
      const body = (await (await fetch(`${router.url}/admin/profiles`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as { data: unknown[] };
      return body.data.length >= 3 ? true : undefined;
    }, 'profiles of the three models', 60_000);
  }, 120_000);

  afterAll(async () => {
    process.env.PATH = originalPath;
    await browser?.close();
    await router?.stop();
    await ollama?.close();
  });

  it('draws every chart from live data and explains a decision', async () => {
    // A browser cannot send a Bearer header on a page load: it answers the Basic challenge with the
    // admin key as password and then sends those credentials with every request the page makes.
    const context = await browser.newContext({ viewport: { width: 1280, height: 1800 }, httpCredentials: { username: 'admin', password: ADMIN_KEY } });
    const page = await context.newPage();
    await page.addInitScript(PAGE_HELPERS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const response = await page.goto(`${router.url}/dashboard`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    // Every chart has drawn data points (the VRAM line needs two samples: a few seconds).
    for (const chart of CHARTS) {
      await page.waitForFunction((id) => Number(page$(id)?.dataset.points ?? 0) > 0, chart, { timeout: 30_000 });
    }
    await page.waitForFunction(() => page$('status')?.textContent === 'ready', undefined, { timeout: 30_000 });
    expect(await page.locator('#routing-models rect[data-series="qwen2.5-coder:7b"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#routing-categories rect[data-series="coding"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#profiles rect[data-value]').count()).toBeGreaterThanOrEqual(12);
    // VRAM bars are scaled to the GPU this machine reports (24576 MiB), not to a fixed size.
    expect(await page.locator('#profiles', { hasText: 'VRAM (of 24 GB GPU memory)' }).count()).toBe(1);
    expect(await page.locator('#vram path[data-series]').count()).toBe(1);
    // The repeated prompt was a cache hit: a non-zero hit rate is drawn.
    expect(await page.locator('#cache text', { hasText: /[1-9]\d*% of/ }).count()).toBeGreaterThan(0);

    // A decision opens its explanation: one bar per candidate.
    await page.locator('tr.decision').first().click();
    await page.waitForSelector('tr.explain svg rect[data-value]');
    expect(await page.locator('tr.explain svg rect[data-value]').count()).toBe(3);

    mkdirSync('test-results', { recursive: true });
    const png = await page.screenshot({ fullPage: true });
    writeFileSync('test-results/dashboard.png', png);

    // Pixel check on the screenshot: inside each chart's box, a real share of pixels must differ
    // from the card background (bars, lines and labels drawn), measured by decoding the PNG in the page.
    for (const chart of CHARTS) {
      const shot = await page.locator(`#${chart}`).screenshot();
      // Runs in the page (a string, so this Node-typed file needs no DOM types).
      const share = (await page.evaluate(`(async (b64) => {
        const img = new Image();
        img.src = 'data:image/png;base64,' + b64;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const { data } = ctx.getImageData(0, 0, img.width, img.height);
        let colored = 0;
        for (let i = 0; i < data.length; i += 4) {
          // Card background is #171e2e; chart colours are bright and saturated.
          const max = Math.max(data[i], data[i + 1], data[i + 2]);
          const min = Math.min(data[i], data[i + 1], data[i + 2]);
          if (max - min > 60 && max > 120) colored++;
        }
        return colored / (data.length / 4);
      })(${JSON.stringify(shot.toString('base64'))})`)) as number;
      expect(share, `${chart}: share of coloured pixels`).toBeGreaterThan(0.003);
    }
    expect(errors).toEqual([]);
  });

  it('captions VRAM bars in GiB, the unit of the API and the budget (labelled GB like the rest of the page)', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } });
    const page = await context.newPage();
    await page.addInitScript(PAGE_HELPERS);
    await page.goto(`${router.url}/dashboard`);
    await page.waitForFunction(() => Number(page$('profiles')?.dataset.points ?? 0) > 0, undefined, { timeout: 30_000 });
    // [label, caption] of each VRAM bar: the label text, two rects, then the caption text.
    const bars = (await page.evaluate(`[...document.querySelectorAll('#profiles text.label')]
      .filter((t) => t.textContent.endsWith(' · VRAM'))
      .map((t) => [t.textContent.slice(0, -' · VRAM'.length), t.nextElementSibling.nextElementSibling.nextElementSibling.textContent])`)) as Array<[string, string]>;
    await context.close();
    expect(bars.length).toBeGreaterThan(0);
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    const profiles = ((await (await fetch(`${router.url}/admin/profiles`, { headers: auth })).json()) as { data: Array<{ model: string; vram_bytes: number | null }> }).data;
    const loaded = ((await (await fetch(`${router.url}/admin/vram`, { headers: auth })).json()) as { loaded_models: Array<{ model: string; vram_bytes: number }> }).loaded_models;
    let differsFromDecimal = false;
    for (const [model, caption] of bars) {
      const bytes = profiles.find((p) => p.model === model)?.vram_bytes ?? loaded.find((m) => m.model === model)?.vram_bytes;
      expect(bytes, model).toBeGreaterThan(0);
      expect(caption, model).toBe(`${(bytes! / 1024 ** 3).toFixed(1)} GB`);
      if (caption !== `${(bytes! / 1e9).toFixed(1)} GB`) differsFromDecimal = true;
    }
    // At least one bar where GiB and decimal GB read differently, so the check above means something.
    expect(differsFromDecimal).toBe(true);
  });

  it('asks a browser for the admin key (Basic challenge) and serves its own assets', async () => {
    const anonymous = await fetch(`${router.url}/dashboard`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="SmarterRouter admin"/);
    const wrong = await fetch(`${router.url}/dashboard`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    // The data behind it is protected the same way.
    expect((await fetch(`${router.url}/admin/decisions`)).status).toBe(401);
    const script = await fetch(`${router.url}/dashboard/app.js`, { headers: { authorization: `Basic ${Buffer.from(`any:${ADMIN_KEY}`).toString('base64')}` } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
  });

  it('pauses its polling when the admin rate limit answers 429, instead of hammering on', async () => {
    // The page's own admin calls (4 per refresh) exceed this budget on the second refresh.
    const limited = await startTestRouter({
      ROUTER_OLLAMA_URL: ollama.url,
      ROUTER_ADMIN_API_KEY: ADMIN_KEY,
      ROUTER_RATE_LIMIT_ENABLED: 'true',
      ROUTER_RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE: '6',
    });
    try {
      const context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } });
      const page = await context.newPage();
      await page.addInitScript(PAGE_HELPERS);
      let adminCalls = 0;
      page.on('request', (r) => r.url().includes('/admin/') && adminCalls++);
      await page.goto(`${limited.url}/dashboard`);
      await page.waitForFunction(() => (page$('updated')?.textContent ?? '').startsWith('rate limited'), undefined, { timeout: 20_000 });
      const seen = adminCalls;
      await new Promise((r) => setTimeout(r, 4000));
      // Paused: more than one refresh interval later, not one admin call more.
      expect(adminCalls).toBe(seen);
      await context.close();
    } finally {
      await limited.stop();
    }
  });
});

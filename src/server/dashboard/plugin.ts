/**
 * GET /dashboard (and its two assets): the admin dashboard, a static page that polls the admin REST
 * API and draws its charts in the browser. Served from the project (no CDN: routers often run
 * offline). It sits under /dashboard, so the admin access rules apply to it like to /admin.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;

/** Only our own files, no inline script or style, no framing: the page handles admin data. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export function dashboardRoutes() {
  // Read once at start-up: a missing asset fails start-up, not a user's page load.
  const files = Object.fromEntries(
    Object.keys(ASSETS).map((name) => [name, readFileSync(new URL(`./assets/${name}`, import.meta.url))]),
  ) as Record<keyof typeof ASSETS, Buffer>;

  return async (app: FastifyInstance): Promise<void> => {
    const serve = (name: keyof typeof ASSETS) => async (_request: unknown, reply: import('fastify').FastifyReply) =>
      reply.headers(SECURITY_HEADERS).type(ASSETS[name]).send(files[name]);
    app.get('/dashboard', serve('index.html'));
    app.get('/dashboard/', serve('index.html'));
    app.get('/dashboard/app.js', serve('app.js'));
    app.get('/dashboard/app.css', serve('app.css'));
  };
}

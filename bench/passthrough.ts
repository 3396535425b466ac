/**
 * The lower bound for any proxy: a bare fastify pass-through that forwards the request body to the
 * backend with node:http (keep-alive) and pipes the answer back, with no parsing, routing or
 * bookkeeping. Run as a child process by bench/overhead.ts; prints its URL.
 *
 * Why node:http and not fetch: undici's fetch cost about 1.5 ms of CPU per request here, five times
 * this whole proxy, so a fetch-based pass-through flattered everything measured against it.
 */
import Fastify from 'fastify';
import { upstream } from './upstream.js';

const backendUrl = process.argv[2];
if (!backendUrl) throw new Error('usage: passthrough.ts <backend base URL>');
const backend = upstream(backendUrl);
const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/v1/chat/completions', (request, reply) => {
  const body = request.body as Buffer;
  const forward = backend.postChat(body, (res) => {
    reply.code(res.statusCode ?? 502).header('content-type', res.headers['content-type'] ?? 'application/json');
    void reply.send(res);
  });
  forward.on('error', (error) => void reply.code(502).send({ error: { message: error.message } }));
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));

/**
 * The lower bound for any proxy: a bare fastify pass-through that forwards the request body to the
 * backend with fetch and streams the answer back, with no parsing, routing or bookkeeping. Run as
 * a child process by bench/overhead.ts; prints its URL.
 */
import Fastify from 'fastify';
import { Readable } from 'node:stream';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: passthrough.ts <backend base URL>');
const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/v1/chat/completions', async (request, reply) => {
  const res = await fetch(`${upstream}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request.body as Buffer });
  reply.code(res.status).header('content-type', res.headers.get('content-type') ?? 'application/json');
  return reply.send(res.body ? Readable.fromWeb(res.body as never) : '');
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));

/**
 * The least work any router that reads the answer must do, and nothing else: fastify parses the
 * request's JSON, node:http (keep-alive) forwards it as a stream request, the backend's SSE events
 * are parsed and written back as OpenAI chunks of this proxy's own (its id, the model it chose), or
 * gathered into one JSON answer for a client that does not stream. No classification, scoring,
 * fallback, deadlines, records or metrics.
 *
 * Why it is in the bench: "added latency" has a floor on every machine, the hop plus reading and
 * rewriting the stream. The bare proxy shows the hop alone; this one shows the hop with the stream
 * parsed, which the router cannot skip (its first-token deadline, cascade, error events, response
 * id and usage all come from the parsed stream). The router's own work is what lies above this.
 * Run as a child process by bench/overhead.ts; prints its URL.
 */
import Fastify from 'fastify';
import { upstream } from './upstream.js';

const backendUrl = process.argv[2];
if (!backendUrl) throw new Error('usage: minimal-proxy.ts <backend base URL>');
const backend = upstream(backendUrl);
const app = Fastify({ logger: false });
let answered = 0;

interface ChatBody {
  model?: string;
  stream?: boolean;
  [key: string]: unknown;
}

interface ChunkChoice {
  index: number;
  delta?: { content?: string | null };
  finish_reason?: string | null;
}

app.post('/v1/chat/completions', (request, reply) => {
  const body = request.body as ChatBody;
  const model = String(body.model ?? '');
  const streamToClient = body.stream === true;
  const forwarded = JSON.stringify({ ...body, model, stream: true, stream_options: { include_usage: true } });
  const id = `chatcmpl-min${++answered}`;
  const created = Math.floor(Date.now() / 1000);
  reply.hijack();
  const res = reply.raw;
  const fail = (message: string) => {
    if (res.headersSent) res.end();
    else res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message, type: 'api_error' } }));
  };
  const forward = backend.postChat(
    forwarded,
    (answer) => {
      if (answer.statusCode !== 200) {
        answer.resume();
        fail(`backend answered ${answer.statusCode}`);
        return;
      }
      answer.setEncoding('utf8');
      let pending = '';
      let text = '';
      let finish: string | null = null;
      let usage: unknown;
      answer.on('data', (data: string) => {
        pending += data;
        for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
          const event = pending.slice(0, end);
          pending = pending.slice(end + 2);
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const chunk = JSON.parse(event.slice(6)) as { choices?: ChunkChoice[]; usage?: unknown };
          const choice = chunk.choices?.[0];
          if (choice?.delta?.content) text += choice.delta.content;
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (chunk.usage) usage = chunk.usage;
          if (!streamToClient) continue;
          if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          const out = { id, object: 'chat.completion.chunk', created, model, choices: chunk.choices ?? [], ...(chunk.usage ? { usage: chunk.usage } : {}) };
          res.write(`data: ${JSON.stringify(out)}\n\n`);
        }
      });
      answer.on('end', () => {
        if (streamToClient) {
          res.end('data: [DONE]\n\n');
          return;
        }
        const whole = { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }], usage };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(whole));
      });
      answer.on('error', (error) => fail(error.message));
    },
  );
  forward.on('error', (error) => fail(error.message));
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));

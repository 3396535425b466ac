/**
 * `npm run demo`: the router in front of a simulated fleet (Ollama, llama-swap and an OpenAI-style
 * API on loopback, models of different sizes and skills), so a newcomer sees routing work in one
 * command, without a GPU. Prints where to point a client; Ctrl-C stops everything.
 */
import { configFrom } from './config/index.js';
import { createLogger } from './server/logger.js';
import { startRouter } from './server/start.js';
import { demoFleet, startLlamaCppSimulator, startOllamaSimulator, startOpenAISimulator } from './simulators/index.js';

const fleet = demoFleet();
const ollama = await startOllamaSimulator({ models: fleet.ollama });
const swap = await startLlamaCppSimulator({ models: fleet.llamacpp, mode: 'swap' });
const cloud = await startOpenAISimulator({ models: fleet.openai, apiKey: 'sk-demo' });

const env = process.env;
const config = configFrom({
  ...Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('ROUTER_'))),
  ROUTER_BACKENDS: `gpu=ollama:${ollama.url},swap=llama.cpp:${swap.url},cloud=openai:${cloud.url}/v1`,
  ROUTER_BACKEND_CLOUD_API_KEY: 'sk-demo',
  ROUTER_DATABASE_URL: env.ROUTER_DATABASE_URL ?? 'sqlite:///data/demo.db',
  ROUTER_LOG_LEVEL: env.ROUTER_LOG_LEVEL ?? 'warn',
});
const router = await startRouter(config, { logger: createLogger(config) });
const models = router.core.router.listModels().filter((m) => !m.routerAlias);

const lines = [
  '',
  'SmarterRouter demo: a simulated fleet behind the router',
  ...models.map((m) => `  ${m.id.padEnd(24)} ${m.backend.padEnd(6)} ${m.parameterCountB ? `${m.parameterCountB}B` : ''} ${capabilityText(m.capabilities)}`),
  '',
  `Point an OpenAI client at:  ${router.url}/v1   model: ${config.externalModelName}   (any API key)`,
  '',
  'Try:',
  `  curl -s ${router.url}/v1/chat/completions -H 'content-type: application/json' \\`,
  `    -d '{"model":"${config.externalModelName}","messages":[{"role":"user","content":"Write a Python function that merges two sorted lists"}]}' -i`,
  `  curl -s '${router.url}/admin/explain?prompt=Prove+that+sqrt(2)+is+irrational'`,
  '',
  'Ctrl-C to stop.',
  '',
];
process.stdout.write(lines.join('\n'));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await router.close();
  await Promise.allSettled([ollama.close(), swap.close(), cloud.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

function capabilityText(c: { vision: boolean; tools: boolean; embeddings: boolean; thinking?: boolean; chat: boolean }): string {
  return [c.chat && 'chat', c.vision && 'vision', c.tools && 'tools', c.thinking && 'thinking', c.embeddings && 'embeddings'].filter(Boolean).join(', ');
}

/** Child process for the bench: one OpenAI-compatible simulator with instant answers; prints its URL. */
import { startOpenAISimulator } from '../src/simulators/index.js';

const sim = await startOpenAISimulator({
  models: [
    { id: 'bench-coder-7b', parameterSizeB: 7, capabilities: { tools: true }, quality: { coding: 0.9, general: 0.6 } },
    { id: 'bench-general-3b', parameterSizeB: 3, capabilities: { tools: true }, quality: { coding: 0.5, general: 0.8 } },
  ],
});
process.stdout.write(`${sim.url}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));

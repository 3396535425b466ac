/**
 * The peer gateway: @portkey-ai/gateway (devDependency) started from its published Node build on a
 * chosen port, fully offline, and pointed at the simulated backend per request with its
 * x-portkey-provider / x-portkey-custom-host headers (OpenAI provider, custom base URL).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, spawnChild, waitReady, type Child } from '../processes.js';
import type { Target } from '../load.js';

const SERVER = join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');
const SHIM = join(ROOT, 'bench/peer/portkey-fetch-shim.mjs');

export interface PeerGateway {
  child: Child;
  url: string;
  startupMs: number;
  /** A target that sends requests through the gateway to `backendUrl` for `model`. */
  target(backendUrl: string, model: string): Target;
}

export async function startPortkey(env: Record<string, string>): Promise<PeerGateway> {
  if (!existsSync(SERVER)) throw new Error(`Portkey gateway not installed (${SERVER}); it is a devDependency: run npm ci`);
  const port = await freePort();
  const started = performance.now();
  // --headless: no web UI / log-stream routes. It listens on every interface (its CLI has no host flag).
  const child = spawnChild(['--import', SHIM, SERVER, `--port=${port}`, '--headless'], {
    tsx: false,
    env,
    // It draws a start-up spinner on stdout.
    quietStdout: true,
  });
  const url = `http://127.0.0.1:${port}`;
  // GET / answers "AI Gateway says hey!" once the server listens.
  const startupMs = await waitReady(`${url}/`, child, async (res) => res.ok && (await res.text()).length > 0);
  return {
    child,
    url,
    startupMs,
    target: (backendUrl, model) => ({
      name: 'peer gateway (Portkey)',
      url,
      model,
      headers: {
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${backendUrl}/v1`,
        // Portkey forwards it as the provider key; the simulator needs none.
        authorization: 'Bearer bench',
      },
    }),
  };
}

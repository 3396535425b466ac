/**
 * The upstream half of the bench's two reference proxies (passthrough.ts, minimal-proxy.ts): one
 * keep-alive node:http agent per proxy and a POST of a JSON body to the backend's chat completions.
 */
import http from 'node:http';

export interface Upstream {
  /** POSTs `body` to <backend>/v1/chat/completions; `onResponse` gets the backend's answer. */
  postChat(body: Buffer | string, onResponse: (answer: http.IncomingMessage) => void): http.ClientRequest;
}

export function upstream(baseUrl: string): Upstream {
  const target = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return {
    postChat(body, onResponse) {
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        onResponse,
      );
      request.end(body);
      return request;
    },
  };
}

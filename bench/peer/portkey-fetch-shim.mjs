/**
 * Preloaded (node --import) into the Portkey gateway child only; never part of the router.
 *
 * @portkey-ai/gateway 1.15.2 declares "@hono/node-server": "^1.3.3", which installs 1.19.x here.
 * In node-server releases after 1.14.2 a Response built from a fetch() Response keeps that Response's headers
 * object, which fetch marks immutable; Portkey then appends its x-portkey-* headers to it and every
 * streamed chat completion fails with "TypeError: immutable" (Portkey-AI/gateway#1389, #1550).
 * Handing Portkey upstream responses whose headers are a mutable copy restores what it was built
 * against. The copy costs a few microseconds per request, counted against the peer, not for it.
 */
const originalFetch = globalThis.fetch;
// Captured before @hono/node-server replaces globalThis.Response with its own lightweight class.
const FetchResponse = globalThis.Response;

globalThis.fetch = async function fetchWithMutableHeaders(input, init) {
  const res = await originalFetch(input, init);
  return new FetchResponse(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
};

/**
 * Tool definitions and tool_choice are checked once, in the core (checkRouteRequest), so the REST
 * door and RouterService refuse the same requests: a tool_choice naming a function the request does
 * not define, "required" without tools, function names a backend cannot call, a name defined twice.
 * OpenAI refuses each of these with a 400; a router that let them through made the model call some
 * other tool, or answer in prose where the client demanded a call.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { checkRouteRequest } from '../src/core/validate.js';
import type { RouteRequest } from '../src/core/types.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } };
const messages = [{ role: 'user' as const, content: 'weather in Paris?' }];

let router: TestRouter;
let client: OpenAI;

beforeAll(async () => {
  router = await startTestRouter();
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await router?.stop();
});

async function rejected(body: Record<string, unknown>): Promise<InstanceType<typeof OpenAI.BadRequestError>> {
  const error = await client.chat.completions.create({ model: 'smarterrouter/main', messages, ...body } as never).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  return error as InstanceType<typeof OpenAI.BadRequestError>;
}

describe('REST: tools and tool_choice that no model could honour are a 400', () => {
  it('tool_choice naming a function the request does not define', async () => {
    const e = await rejected({ tools: [weather], tool_choice: { type: 'function', function: { name: 'send_email' } } });
    expect(e.error).toMatchObject({ type: 'invalid_request_error', param: 'tool_choice' });
    expect(e.message).toContain('"send_email" is not one of the request\'s tools (get_weather)');
  });

  it('tool_choice "required" (or a named function) without tools', async () => {
    expect((await rejected({ tool_choice: 'required' })).message).toContain('"required" needs tools, but the request defines none');
    expect((await rejected({ tool_choice: { type: 'function', function: { name: 'get_weather' } } })).error).toMatchObject({ param: 'tool_choice' });
  });

  it('a function name with characters a backend cannot call, or one over 64 characters', async () => {
    const e = await rejected({ tools: [{ ...weather, function: { ...weather.function, name: 'bad name!' } }] });
    expect(e.error).toMatchObject({ param: 'tools[0].name' });
    expect(e.message).toContain('is not a valid function name');
    expect((await rejected({ tools: [{ ...weather, function: { ...weather.function, name: 'x'.repeat(65) } }] })).error).toMatchObject({ param: 'tools[0].name' });
  });

  it('the same name defined twice, and the legacy functions/function_call pair alike', async () => {
    expect((await rejected({ tools: [weather, weather] })).message).toContain('"get_weather" is defined twice');
    expect((await rejected({ functions: [weather.function], function_call: { name: 'nope' } })).message).toContain('"nope" is not one of');
  });

  it('"auto" and "none" need no tools (clients send them by default)', () => {
    const base: RouteRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }], protocol: 'rest', requestId: 'r' };
    const limits = { maxMessages: 10, maxPromptChars: 1000 };
    expect(checkRouteRequest({ ...base, toolChoice: 'auto' }, limits)).toBeUndefined();
    expect(checkRouteRequest({ ...base, toolChoice: 'none' }, limits)).toBeUndefined();
    expect(checkRouteRequest({ ...base, tools: [{ name: 'a-b_1' }], toolChoice: { name: 'a-b_1' } }, limits)).toBeUndefined();
  });
});

describe('RouterService refuses the same requests with INVALID_ARGUMENT', () => {
  it('a tool_choice naming an undefined function', async () => {
    const rpc = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    const error = await rpc
      .chat({ model: 'smarterrouter/main', messages: [{ role: Role.USER, content: 'weather?' }], tools: [{ name: 'get_weather' }], toolChoice: 'send_email' })
      .catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(error).rawMessage).toContain('tool_choice');
  });
});

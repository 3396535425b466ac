/**
 * gRPC server reflection over a real HTTP/2 cleartext server on 127.0.0.1, exercised by the real
 * `buf curl` CLI (which has no local copy of our schema: everything it knows comes through
 * reflection) and by a typed connect-es client for the cases the CLI does not reach (errors,
 * per-stream de-duplication, extensions, v1alpha answers).
 */
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { create, fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, createClient, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ServerReflection as ServerReflectionV1,
  ServerReflectionRequestSchema as RequestSchemaV1,
  type ServerReflectionRequest as RequestV1,
  type ServerReflectionResponse as ResponseV1,
} from '../gen/grpc/reflection/v1/reflection_pb.js';
import {
  ServerReflection as ServerReflectionV1alpha,
  ServerReflectionRequestSchema as RequestSchemaV1alpha,
} from '../gen/grpc/reflection/v1alpha/reflection_pb.js';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { ProfilerService } from '../gen/smarterrouter/v1/profiler_pb.js';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { ALL_SERVICE_FILES, registerReflection } from '../src/server/connect/reflection.js';

const execFileAsync = promisify(execFile);
const BUF = fileURLToPath(new URL('../node_modules/.bin/buf', import.meta.url));

let server: http2.Http2Server;
let baseUrl: string;
const sessions = new Set<http2.ServerHttp2Session>();

beforeAll(async () => {
  const routes = (router: ConnectRouter) => {
    registerReflection(router, ALL_SERVICE_FILES);
    // Empty implementations: connect-es answers every method with UNIMPLEMENTED, which is enough to
    // prove that a client resolved the method's schema through reflection and reached the server.
    router.service(RouterService, {});
    router.service(AdminService, {});
    router.service(ProfilerService, {});
  };
  server = http2.createServer(connectNodeAdapter({ routes }));
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  // The typed client's transport keeps its HTTP/2 session open; close() would wait for it.
  for (const session of sessions) session.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `buf curl` asynchronously: the server lives in this process, so blocking would deadlock. */
async function bufCurl(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(
      BUF,
      ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--timeout', '20s', ...args],
      { timeout: 25_000, env: { ...process.env, BUF_LOG_FORMAT: 'text' } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const SERVICES = [
  'smarterrouter.v1.RouterService',
  'smarterrouter.v1.AdminService',
  'smarterrouter.v1.ProfilerService',
];

describe.each(['grpc-v1', 'grpc-v1alpha'])('buf curl with --reflect-protocol %s', (protocol) => {
  it('lists our services and both reflection services', async () => {
    const result = await bufCurl('--reflect-protocol', protocol, '--list-services', baseUrl);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const listed = result.stdout.trim().split('\n').sort();
    expect(listed).toEqual(
      [...SERVICES, 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'].sort(),
    );
  });

  it('lists the methods of every service', async () => {
    const result = await bufCurl('--reflect-protocol', protocol, '--list-methods', baseUrl);
    expect(result.code).toBe(0);
    const methods = result.stdout.trim().split('\n');
    for (const method of [
      'smarterrouter.v1.RouterService/Chat',
      'smarterrouter.v1.RouterService/ChatStream',
      'smarterrouter.v1.RouterService/Embed',
      'smarterrouter.v1.RouterService/Explain',
      'smarterrouter.v1.RouterService/ListModels',
      'smarterrouter.v1.RouterService/SubmitFeedback',
      'smarterrouter.v1.AdminService/GetStats',
      'smarterrouter.v1.AdminService/WatchVram',
      'smarterrouter.v1.ProfilerService/Reprofile',
      'smarterrouter.v1.ProfilerService/SyncBenchmarks',
    ]) {
      expect(methods).toContain(method);
    }
  });

  it('calls a method it knows only through reflection (the server answers unimplemented)', async () => {
    const result = await bufCurl(
      '--reflect-protocol',
      protocol,
      '-d',
      '{}',
      `${baseUrl}/smarterrouter.v1.AdminService/GetStats`,
    );
    // buf curl exits with the gRPC code shifted left by three bits.
    expect(result.code).toBe(Code.Unimplemented << 3);
    expect(result.stdout + result.stderr).toContain('unimplemented');
  });

  it('encodes a request that needs imported well-known types (Struct, Timestamp)', async () => {
    const body = JSON.stringify({
      request: { messages: [{ role: 'ROLE_USER', content: 'hi' }], providerOptions: { ollama: { num_ctx: 8192 } } },
    });
    const result = await bufCurl('--reflect-protocol', protocol, '-d', body, `${baseUrl}/smarterrouter.v1.RouterService/ChatStream`);
    expect(result.code).toBe(Code.Unimplemented << 3);
    expect(result.stdout + result.stderr).toContain('unimplemented');
  });
});

describe('reflection answers (typed client over gRPC / HTTP/2)', () => {
  const transport = () => createGrpcTransport({ baseUrl });

  /** Sends the requests on one stream and collects the answers. */
  async function exchange(requests: MessageInitShape<typeof RequestSchemaV1>[]): Promise<ResponseV1[]> {
    const client = createClient(ServerReflectionV1, transport());
    async function* input(): AsyncIterable<RequestV1> {
      for (const init of requests) yield create(RequestSchemaV1, init);
    }
    const out: ResponseV1[] = [];
    for await (const response of client.serverReflectionInfo(input())) out.push(response);
    return out;
  }

  const fileNames = (response: ResponseV1): string[] => {
    if (response.messageResponse.case !== 'fileDescriptorResponse') {
      throw new Error(`expected files, got ${response.messageResponse.case}`);
    }
    return response.messageResponse.value.fileDescriptorProto.map(
      (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
    );
  };

  const errorCode = (response: ResponseV1): number | undefined =>
    response.messageResponse.case === 'errorResponse' ? response.messageResponse.value.errorCode : undefined;

  it('serves a file with its transitive imports, then skips those already sent on the stream', async () => {
    const [router, admin, again] = await exchange([
      { host: 'h', messageRequest: { case: 'fileContainingSymbol', value: 'smarterrouter.v1.RouterService' } },
      { messageRequest: { case: 'fileByFilename', value: 'smarterrouter/v1/admin.proto' } },
      { messageRequest: { case: 'fileByFilename', value: 'smarterrouter/v1/router.proto' } },
    ]);
    expect(router.validHost).toBe('h');
    expect(router.originalRequest?.messageRequest).toEqual({
      case: 'fileContainingSymbol',
      value: 'smarterrouter.v1.RouterService',
    });
    expect(fileNames(router).sort()).toEqual(
      [
        'smarterrouter/v1/router.proto',
        'google/protobuf/struct.proto',
        'google/protobuf/timestamp.proto',
        'smarterrouter/v1/common.proto',
      ].sort(),
    );
    expect(fileNames(router)[0]).toBe('smarterrouter/v1/router.proto');
    // admin.proto imports timestamp.proto and common.proto, both sent already.
    expect(fileNames(admin)).toEqual(['smarterrouter/v1/admin.proto']);
    // The requested file is always sent, even when it was sent before.
    expect(fileNames(again)).toEqual(['smarterrouter/v1/router.proto']);

    const first = router.messageResponse.case === 'fileDescriptorResponse'
      ? router.messageResponse.value.fileDescriptorProto[0]
      : new Uint8Array();
    const decoded = fromBinary(FileDescriptorProtoSchema, first);
    expect(decoded.package).toBe('smarterrouter.v1');
    expect(decoded.dependency).toEqual([
      'google/protobuf/struct.proto',
      'google/protobuf/timestamp.proto',
      'smarterrouter/v1/common.proto',
    ]);
    expect(decoded.service.map((s) => s.name)).toEqual(['RouterService']);
  });

  it('serves well-known type files by name', async () => {
    const [response] = await exchange([
      { messageRequest: { case: 'fileByFilename', value: 'google/protobuf/timestamp.proto' } },
    ]);
    expect(fileNames(response)).toEqual(['google/protobuf/timestamp.proto']);
  });

  it('resolves methods, nested symbols, fields, oneofs and enum values to their file', async () => {
    const symbols = [
      ['smarterrouter.v1.AdminService.GetStats', 'smarterrouter/v1/admin.proto'],
      ['smarterrouter.v1.ChatRequest', 'smarterrouter/v1/router.proto'],
      ['.smarterrouter.v1.ChatRequest', 'smarterrouter/v1/router.proto'],
      ['smarterrouter.v1.ChatRequest.temperature', 'smarterrouter/v1/router.proto'],
      ['smarterrouter.v1.ChatStreamResponse.part', 'smarterrouter/v1/router.proto'],
      ['smarterrouter.v1.Category', 'smarterrouter/v1/common.proto'],
      ['smarterrouter.v1.CATEGORY_CODING', 'smarterrouter/v1/common.proto'],
      ['smarterrouter.v1.ProfilerService', 'smarterrouter/v1/profiler.proto'],
      ['google.protobuf.Timestamp', 'google/protobuf/timestamp.proto'],
      ['grpc.reflection.v1alpha.ServerReflection', 'grpc/reflection/v1alpha/reflection.proto'],
    ] as const;
    const responses = await exchange(
      symbols.map(([symbol]) => ({ messageRequest: { case: 'fileContainingSymbol' as const, value: symbol } })),
    );
    responses.forEach((response, i) => expect(fileNames(response)[0], symbols[i][0]).toBe(symbols[i][1]));
  });

  it('answers unknown names and extension queries with NOT_FOUND, keeping the stream open', async () => {
    const responses = await exchange([
      { messageRequest: { case: 'fileContainingSymbol', value: 'smarterrouter.v1.NoSuchThing' } },
      { messageRequest: { case: 'fileByFilename', value: 'nope.proto' } },
      {
        messageRequest: {
          case: 'fileContainingExtension',
          value: { containingType: 'smarterrouter.v1.ChatRequest', extensionNumber: 1000 },
        },
      },
      { messageRequest: { case: 'allExtensionNumbersOfType', value: 'smarterrouter.v1.NoSuchThing' } },
      { messageRequest: { case: 'allExtensionNumbersOfType', value: 'smarterrouter.v1.ChatRequest' } },
      { messageRequest: { case: undefined } },
      { messageRequest: { case: 'listServices', value: '*' } },
    ]);
    expect(responses.slice(0, 4).map(errorCode)).toEqual([Code.NotFound, Code.NotFound, Code.NotFound, Code.NotFound]);
    for (const response of responses.slice(0, 4)) {
      expect(response.messageResponse.value).toHaveProperty('errorMessage', expect.any(String));
    }
    // A known message type without extensions: an empty list, not an error.
    expect(responses[4].messageResponse).toEqual({
      case: 'allExtensionNumbersResponse',
      value: expect.objectContaining({ baseTypeName: 'smarterrouter.v1.ChatRequest', extensionNumber: [] }),
    });
    expect(errorCode(responses[5])).toBe(Code.Unimplemented);
    expect(responses[6].messageResponse.case).toBe('listServicesResponse');
  });

  it('answers v1alpha requests with v1alpha messages', async () => {
    const client = createClient(ServerReflectionV1alpha, transport());
    async function* input() {
      yield create(RequestSchemaV1alpha, { messageRequest: { case: 'listServices', value: '' } });
      yield create(RequestSchemaV1alpha, { messageRequest: { case: 'fileContainingSymbol', value: 'x.Y' } });
    }
    const out = [];
    for await (const response of client.serverReflectionInfo(input())) out.push(response);
    expect(out[0].$typeName).toBe('grpc.reflection.v1alpha.ServerReflectionResponse');
    expect(out[0].messageResponse.case).toBe('listServicesResponse');
    const names = out[0].messageResponse.case === 'listServicesResponse'
      ? out[0].messageResponse.value.service.map((s) => s.name)
      : [];
    expect(names).toEqual(expect.arrayContaining(SERVICES));
    expect(out[1].messageResponse).toEqual({
      case: 'errorResponse',
      value: expect.objectContaining({ errorCode: Code.NotFound }),
    });
  });
});

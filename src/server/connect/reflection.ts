/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) for connect-es.
 *
 * No npm package implements reflection for connect-es, so this is a small hand-written one. It lets
 * `buf curl`, grpcurl, Postman and the reflection clients of other languages discover our services
 * and call them without a local copy of the .proto files.
 *
 * What it serves comes from the generated file descriptors (gen/): the files passed in, and every
 * file they import, transitively (well-known types such as google/protobuf/timestamp.proto
 * included, because the generated code links them as dependencies). The generated descriptors carry
 * no source_code_info (protoc-gen-es strips it to keep generated code small), so reflection clients
 * see the schema but not the .proto comments; read those in proto/ or in generated clients.
 *
 * Both protocol versions share one index and one request handler: v1alpha is what older clients
 * (and grpcurl before 1.9) speak, v1 is what newer ones try first.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { DescFile, DescMessage, DescExtension, DescEnum } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, type ConnectRouter } from '@connectrpc/connect';

import {
  file_grpc_reflection_v1_reflection,
  ServerReflection as ServerReflectionV1,
  ServerReflectionResponseSchema as ResponseSchemaV1,
} from '../../../gen/grpc/reflection/v1/reflection_pb.js';
import {
  file_grpc_reflection_v1alpha_reflection,
  ServerReflection as ServerReflectionV1alpha,
  ServerReflectionResponseSchema as ResponseSchemaV1alpha,
} from '../../../gen/grpc/reflection/v1alpha/reflection_pb.js';
import { file_smarterrouter_v1_admin } from '../../../gen/smarterrouter/v1/admin_pb.js';
import { file_smarterrouter_v1_profiler } from '../../../gen/smarterrouter/v1/profiler_pb.js';
import { file_smarterrouter_v1_router } from '../../../gen/smarterrouter/v1/router_pb.js';

/** The files that declare our public services (RouterService, AdminService, ProfilerService). */
export const ALL_SERVICE_FILES: readonly DescFile[] = [
  file_smarterrouter_v1_router,
  file_smarterrouter_v1_admin,
  file_smarterrouter_v1_profiler,
];

/**
 * The request shape both protocol versions share. The generated v1 and v1alpha messages differ only
 * in their `$typeName`s, so each is assignable to this.
 */
export type ReflectionRequest = {
  host: string;
  messageRequest:
    | { case: 'fileByFilename'; value: string }
    | { case: 'fileContainingSymbol'; value: string }
    | { case: 'fileContainingExtension'; value: { containingType: string; extensionNumber: number } }
    | { case: 'allExtensionNumbersOfType'; value: string }
    | { case: 'listServices'; value: string }
    | { case: undefined; value?: undefined };
};

/** The `message_response` oneof, as a plain init shape that both versions' `create` accept. */
export type ReflectionAnswer =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'allExtensionNumbersResponse'; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: 'listServicesResponse'; value: { service: { name: string }[] } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

/**
 * Everything reflection can be asked about, indexed once at registration: requests then cost map
 * lookups, and each file is serialised at most once.
 */
export class ReflectionIndex {
  /** Full names of the services list_services reports, in registration order. */
  readonly serviceNames: readonly string[];
  private readonly filesByName = new Map<string, DescFile>();
  private readonly filesBySymbol = new Map<string, DescFile>();
  /** Extendee full name -> extension number -> declaring file. */
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  /** Full names of message types: all_extension_numbers_of_type answers these, even with no extensions. */
  private readonly messageTypes = new Set<string>();
  private readonly encoded = new Map<string, Uint8Array>();

  constructor(files: readonly DescFile[]) {
    const services: string[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      for (const service of file.services) {
        if (!seen.has(service.typeName)) {
          seen.add(service.typeName);
          services.push(service.typeName);
        }
      }
      this.addFile(file);
    }
    this.serviceNames = services;
  }

  /** Adds a file and, transitively, its imports. The first file seen under a name wins. */
  private addFile(file: DescFile): void {
    const name = file.proto.name;
    if (this.filesByName.has(name)) return;
    this.filesByName.set(name, file);
    for (const message of file.messages) this.addMessage(file, message);
    for (const descEnum of file.enums) this.addEnum(file, descEnum);
    for (const extension of file.extensions) this.addExtension(file, extension);
    for (const service of file.services) {
      this.addSymbol(service.typeName, file);
      for (const method of service.methods) this.addSymbol(`${service.typeName}.${method.name}`, file);
    }
    for (const dependency of file.dependencies) this.addFile(dependency);
  }

  private addMessage(file: DescFile, message: DescMessage): void {
    this.addSymbol(message.typeName, file);
    this.messageTypes.add(message.typeName);
    // Fields and oneofs resolve to their message's file: grpcurl asks for them by full name.
    for (const field of message.fields) this.addSymbol(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) this.addSymbol(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) this.addMessage(file, nested);
    for (const nested of message.nestedEnums) this.addEnum(file, nested);
    for (const nested of message.nestedExtensions) this.addExtension(file, nested);
  }

  private addEnum(file: DescFile, descEnum: DescEnum): void {
    this.addSymbol(descEnum.typeName, file);
    // Protobuf scopes enum values beside their enum, not inside it (C++ scoping rules).
    const lastDot = descEnum.typeName.lastIndexOf('.');
    const scope = lastDot < 0 ? '' : descEnum.typeName.slice(0, lastDot + 1);
    for (const value of descEnum.values) this.addSymbol(scope + value.name, file);
  }

  private addExtension(file: DescFile, extension: DescExtension): void {
    this.addSymbol(extension.typeName, file);
    const extendee = extension.extendee.typeName;
    let byNumber = this.extensions.get(extendee);
    if (!byNumber) {
      byNumber = new Map();
      this.extensions.set(extendee, byNumber);
    }
    if (!byNumber.has(extension.number)) byNumber.set(extension.number, file);
  }

  private addSymbol(fullName: string, file: DescFile): void {
    if (!this.filesBySymbol.has(fullName)) this.filesBySymbol.set(fullName, file);
  }

  fileByName(name: string): DescFile | undefined {
    return this.filesByName.get(name);
  }

  fileBySymbol(symbol: string): DescFile | undefined {
    // Some clients send fully-qualified names with the leading dot of descriptor type references.
    return this.filesBySymbol.get(symbol.startsWith('.') ? symbol.slice(1) : symbol);
  }

  fileByExtension(containingType: string, number: number): DescFile | undefined {
    return this.extensions.get(stripDot(containingType))?.get(number);
  }

  /** Extension numbers of a message type, or undefined when the type is unknown. */
  extensionNumbers(typeName: string): number[] | undefined {
    const name = stripDot(typeName);
    if (!this.messageTypes.has(name)) return undefined;
    return [...(this.extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * The serialised file, then those of its transitive imports not yet sent on this stream. The
   * protocol lets a server skip files it already sent on the same stream (clients cache them);
   * the requested file itself is always sent, as grpc-go does, so every answer is useful alone.
   */
  encodeWithDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const queue: DescFile[] = [file];
    const visited = new Set<string>();
    while (queue.length > 0) {
      const current = queue.shift()!;
      const name = current.proto.name;
      if (visited.has(name)) continue;
      visited.add(name);
      if (out.length === 0 || !sent.has(name)) {
        sent.add(name);
        out.push(this.encode(current));
      }
      queue.push(...current.dependencies);
    }
    return out;
  }

  private encode(file: DescFile): Uint8Array {
    const name = file.proto.name;
    let bytes = this.encoded.get(name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(name, bytes);
    }
    return bytes;
  }
}

function stripDot(name: string): string {
  return name.startsWith('.') ? name.slice(1) : name;
}

function error(code: Code, message: string): ReflectionAnswer {
  return { case: 'errorResponse', value: { errorCode: code, errorMessage: message } };
}

/**
 * Answers one reflection request. `sent` holds the names of the files already sent on the current
 * stream. Failures are answered in-band with an error_response (the stream stays open), as the
 * protocol requires; the codes are gRPC status codes, which connect's `Code` numbers match.
 */
export function answerReflectionRequest(
  index: ReflectionIndex,
  request: ReflectionRequest,
  sent: Set<string>,
): ReflectionAnswer {
  const files = (file: DescFile): ReflectionAnswer => ({
    case: 'fileDescriptorResponse',
    value: { fileDescriptorProto: index.encodeWithDependencies(file, sent) },
  });
  const req = request.messageRequest;
  switch (req.case) {
    case 'listServices':
      // The request's content is unspecified ("*" by convention) and not a filter: list everything.
      return { case: 'listServicesResponse', value: { service: index.serviceNames.map((name) => ({ name })) } };
    case 'fileByFilename': {
      const file = index.fileByName(req.value);
      return file ? files(file) : error(Code.NotFound, `file not found: ${req.value}`);
    }
    case 'fileContainingSymbol': {
      const file = index.fileBySymbol(req.value);
      return file ? files(file) : error(Code.NotFound, `symbol not found: ${req.value}`);
    }
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = req.value;
      const file = index.fileByExtension(containingType, extensionNumber);
      return file
        ? files(file)
        : error(Code.NotFound, `extension ${extensionNumber} of ${containingType} not found`);
    }
    case 'allExtensionNumbersOfType': {
      const numbers = index.extensionNumbers(req.value);
      return numbers
        ? { case: 'allExtensionNumbersResponse', value: { baseTypeName: stripDot(req.value), extensionNumber: numbers } }
        : error(Code.NotFound, `message type not found: ${req.value}`);
    }
    default:
      // No field set, or a request kind newer than this implementation (an unknown oneof field).
      return error(Code.Unimplemented, 'unsupported or missing message_request');
  }
}

/**
 * Registers grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection.
 *
 * `files` are the files whose services the server implements (usually ALL_SERVICE_FILES); their
 * imports are served too. The reflection services list themselves, as other implementations do.
 *
 * Reflection is bidi-streaming, so it answers over gRPC on HTTP/2 only (and Connect on HTTP/2).
 */
export function registerReflection(router: ConnectRouter, files: readonly DescFile[]): void {
  const index = new ReflectionIndex([
    ...files,
    file_grpc_reflection_v1_reflection,
    file_grpc_reflection_v1alpha_reflection,
  ]);

  router.service(ServerReflectionV1, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) {
        yield create(ResponseSchemaV1, {
          validHost: request.host,
          originalRequest: request,
          messageResponse: answerReflectionRequest(index, request, sent),
        });
      }
    },
  });

  router.service(ServerReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) {
        yield create(ResponseSchemaV1alpha, {
          validHost: request.host,
          originalRequest: request,
          messageResponse: answerReflectionRequest(index, request, sent),
        });
      }
    },
  });
}

/**
 * Fills the methods of a service that are not built yet with handlers that answer UNIMPLEMENTED and
 * say which capability is missing, instead of connect-es's generic "not implemented" message.
 */
import type { DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';

/**
 * @param built the methods implemented so far
 * @param capabilityOf names the capability each missing method belongs to (by method local name)
 */
export function withUnimplemented<S extends DescService>(
  service: S,
  built: Partial<ServiceImpl<S>>,
  capabilityOf: (methodName: string) => string,
): Partial<ServiceImpl<S>> {
  const impl: Record<string, unknown> = { ...built };
  for (const method of service.methods) {
    if (impl[method.localName]) continue;
    const error = () =>
      new ConnectError(
        `${service.name}.${method.name} is not implemented yet: it belongs to the "${capabilityOf(method.name)}" capability, which this SmarterRouter version does not include.`,
        Code.Unimplemented,
      );
    impl[method.localName] =
      method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming'
        ? // eslint-disable-next-line require-yield
          async function* () {
            throw error();
          }
        : async () => {
            throw error();
          };
  }
  return impl as Partial<ServiceImpl<S>>;
}

/** The ConnectError an RPC call fails with, or undefined when it succeeds. */
import { ConnectError } from '@connectrpc/connect';

export async function failure(call: () => Promise<unknown>): Promise<ConnectError | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return ConnectError.from(error);
  }
}

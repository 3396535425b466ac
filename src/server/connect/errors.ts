/**
 * The one place where RouterService failures become Connect codes. Handlers catch everything and
 * throw `toConnectError(error, ctx)`, so a code is decided once and logged once, with the request's
 * own logger (its lines carry the request id).
 *
 * Clients see a code and a message; the original error stays in `cause` for the log line only
 * (connect-es never serialises `cause`), so backend URLs and stack traces do not leak.
 */
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { RouterError, type RouterErrorCode } from '../../core/types.js';
import { isAbortError, PluginError, type PluginErrorCode } from '../../plugin-api/errors.js';
import { kRequestLogger } from './context.js';

const ROUTER_CODES: Record<RouterErrorCode, Code> = {
  invalid_request: Code.InvalidArgument,
  model_not_found: Code.NotFound,
  not_found: Code.NotFound,
  // No model can serve the request right now (all down, or none capable): retrying later may work.
  no_candidates: Code.Unavailable,
  all_candidates_failed: Code.Unavailable,
  overloaded: Code.Unavailable,
  disabled: Code.FailedPrecondition,
  aborted: Code.Canceled,
};

function pluginCode(code: PluginErrorCode): Code {
  if (code === 'timeout') return Code.DeadlineExceeded;
  if (code === 'aborted') return Code.Canceled;
  // A backend failure after the stream started (cut stream, garbage, overload): the model is
  // unavailable for this answer, and a retry may land on a healthy one.
  return Code.Unavailable;
}

/** The parts of a HandlerContext the mapping uses (all optional, so tests and helpers can call it bare). */
export type ErrorContext = Partial<Pick<HandlerContext, 'signal' | 'values' | 'method' | 'timeoutMs'>>;

/**
 * How close to its deadline a call that the client tore down counts as timed out. A gRPC client whose
 * deadline passes resets the HTTP/2 stream itself (INTERNAL_ERROR, not CANCEL), often before the
 * server's own deadline timer fires: the server's clock started later, by the time the request took
 * to arrive.
 */
const DEADLINE_SLACK_MS = 100;

/** Failures of the client's own making (it left, or its deadline passed): logged low, never alerts. */
const clientEnded = new WeakSet<ConnectError>();

export function toConnectError(error: unknown, ctx: ErrorContext = {}): ConnectError {
  const mapped = classify(error, ctx);
  log(mapped, error, ctx);
  return mapped;
}

function classify(error: unknown, ctx: ErrorContext): ConnectError {
  // Already decided (by connect-es itself, or a mapping further down): keep its code and message.
  if (error instanceof ConnectError) return error;

  // The call's signal carries the deadline, the client going away and server shutdown; the core only
  // sees "aborted" (or a backend stream cut because of it). The signal says which it was.
  if (ctx.signal?.aborted && (isAborted(error) || PluginError.isInstance(error))) return endedByClient(ctx, error);

  if (RouterError.isInstance(error)) {
    return new ConnectError(error.message, ROUTER_CODES[error.code] ?? Code.Internal, undefined, undefined, error);
  }
  if (PluginError.isInstance(error)) {
    const who = error.model ? `model ${error.model}${error.backend ? ` on backend ${error.backend}` : ''}` : 'the model';
    return new ConnectError(`${who} failed (${error.code}): ${error.message}`, pluginCode(error.code), undefined, undefined, error);
  }
  if (isAbortError(error)) return new ConnectError('request canceled', Code.Canceled, undefined, undefined, error);
  // A bug: say nothing specific to the client, keep everything for the log.
  return new ConnectError('internal error', Code.Internal, undefined, undefined, error);
}

/**
 * DEADLINE_EXCEEDED when the call's deadline passed (connect-es's own deadline reason, or a client
 * that reset the stream at its deadline), CANCELED otherwise: the client cancelled, its connection
 * closed, or the server is shutting down. Whatever code the transport put on the signal for a reset
 * stream (INTERNAL for an HTTP/2 INTERNAL_ERROR, ABORTED for ECONNRESET) describes the socket, not
 * the RPC.
 */
function endedByClient(ctx: ErrorContext, cause: unknown): ConnectError {
  const reason: unknown = ctx.signal?.reason;
  const remaining = ctx.timeoutMs?.();
  const deadline =
    (reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) || (remaining !== undefined && remaining <= DEADLINE_SLACK_MS);
  const mapped = deadline
    ? new ConnectError('the deadline passed before the answer was complete', Code.DeadlineExceeded, undefined, undefined, cause)
    : new ConnectError('request canceled', Code.Canceled, undefined, undefined, cause);
  clientEnded.add(mapped);
  return mapped;
}

function isAborted(error: unknown): boolean {
  return isAbortError(error) || (RouterError.isInstance(error) && error.code === 'aborted');
}

function log(mapped: ConnectError, original: unknown, ctx: ErrorContext): void {
  const logger = ctx.values?.get(kRequestLogger);
  if (!logger) return;
  const fields = { rpc: ctx.method ? `${ctx.method.parent.typeName}/${ctx.method.name}` : undefined, code: Code[mapped.code], err: original };
  if (clientEnded.has(mapped)) {
    // The client's choice (a cancel, its own deadline), not a router or backend failure.
    if (mapped.code === Code.Canceled) logger.debug(fields, 'rpc canceled');
    else logger.info(fields, 'rpc deadline exceeded');
    return;
  }
  switch (mapped.code) {
    case Code.Internal:
    case Code.Unknown:
      logger.error(fields, 'rpc failed');
      break;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      logger.warn(fields, 'rpc failed');
      break;
    case Code.Canceled:
      logger.debug(fields, 'rpc canceled');
      break;
    default:
      // Client mistakes: worth a line for support, not an alert.
      logger.info(fields, 'rpc rejected');
  }
}

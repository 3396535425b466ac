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
export type ErrorContext = Partial<Pick<HandlerContext, 'signal' | 'values' | 'method'>>;

export function toConnectError(error: unknown, ctx: ErrorContext = {}): ConnectError {
  const mapped = classify(error, ctx);
  log(mapped, error, ctx);
  return mapped;
}

function classify(error: unknown, ctx: ErrorContext): ConnectError {
  // Already decided (by connect-es itself, or a mapping further down): keep its code and message.
  if (error instanceof ConnectError) return error;

  // When connect-es aborts the handler it puts the reason on the signal (DEADLINE_EXCEEDED for a
  // passed deadline, CANCELED for a client that went away); the core only sees "aborted". The
  // signal's reason is the truer code.
  if (ctx.signal?.aborted && isAborted(error) && ctx.signal.reason instanceof ConnectError) {
    return new ConnectError(ctx.signal.reason.rawMessage, ctx.signal.reason.code, undefined, undefined, error);
  }

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

function isAborted(error: unknown): boolean {
  return isAbortError(error) || (RouterError.isInstance(error) && error.code === 'aborted');
}

function log(mapped: ConnectError, original: unknown, ctx: ErrorContext): void {
  const logger = ctx.values?.get(kRequestLogger);
  if (!logger) return;
  const fields = { rpc: ctx.method ? `${ctx.method.parent.typeName}/${ctx.method.name}` : undefined, code: Code[mapped.code], err: original };
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

/**
 * POST /admin/models/load, /admin/models/unload and /admin/models/pin: the REST twins of
 * AdminService.LoadModel / UnloadModel / PinModel, over the same VRAM manager. Errors are OpenAI
 * error JSON; VramError codes become statuses here, once.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VramError, type VramErrorCode, type VramManager } from '../../core/vram-manager.js';
import { sendError, typeForStatus } from './errors.js';
import { errorReplyOf, sendErrorReply } from './openai/errors.js';

export type ModelMemoryControl = Pick<VramManager, 'load' | 'unload' | 'pin'>;

const STATUS: Record<VramErrorCode, number> = {
  invalid_request: 400,
  model_not_found: 404,
  pinned: 409,
  not_pinned: 409,
  not_loadable: 409,
  backend_failed: 502,
  aborted: 499,
};

const modelBody = (extra: Record<string, unknown> = {}) => ({
  body: {
    type: 'object',
    properties: { model: { type: 'string', minLength: 1, maxLength: 1000 }, ...extra },
    required: ['model'],
    additionalProperties: false,
  },
});

interface ModelBody {
  model: string;
  unpin?: boolean;
}

export function adminModelRoutes(manager: ModelMemoryControl) {
  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler((error, request, reply) => {
      if (VramError.isInstance(error)) {
        const status = STATUS[error.code] ?? 500;
        return sendError(reply, status, error.message, typeForStatus(status), error.code, error.code === 'invalid_request' || error.code === 'model_not_found' ? 'model' : null);
      }
      return sendErrorReply(reply, errorReplyOf(error, request));
    });

    /** Loads a model on its backend (making room first when a VRAM budget is known). */
    app.post<{ Body: ModelBody }>('/admin/models/load', { schema: modelBody() }, async (request, reply) => {
      const result = await withSignal(request, reply, (signal) => manager.load(request.body.model, signal));
      return { ok: result.ok, model: result.model, message: result.message };
    });

    /** Unloads a model (never the pinned one: 409). */
    app.post<{ Body: ModelBody }>('/admin/models/unload', { schema: modelBody() }, async (request, reply) => {
      const result = await withSignal(request, reply, (signal) => manager.unload(request.body.model, signal));
      return { ok: result.ok, model: result.model, message: result.message };
    });

    /** Pins a model (replacing any pin); `"unpin": true` removes the pin. */
    app.post<{ Body: ModelBody }>('/admin/models/pin', { schema: modelBody({ unpin: { type: 'boolean' } }) }, async (request) => {
      const result = manager.pin(request.body.model, request.body.unpin === true);
      return { ok: true, pinned_model: result.pinnedModel ?? null };
    });
  };
}

/** Aborts the operation when the client goes away (a load can take minutes). */
async function withSignal<T>(_request: FastifyRequest, reply: FastifyReply, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // The response closing before it was written means the client left (IncomingMessage's own
  // 'close' fires as soon as the body has been read, so it cannot tell).
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once('close', onClose);
  try {
    return await run(controller.signal);
  } finally {
    reply.raw.off('close', onClose);
  }
}

/**
 * AdminService.LoadModel / UnloadModel / PinModel: thin adapters over the VRAM manager, merged into
 * the admin service in start.ts. VramError codes become Connect codes here, once.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import {
  LoadModelResponseSchema,
  PinModelResponseSchema,
  UnloadModelResponseSchema,
  type AdminService,
} from '../../../gen/smarterrouter/v1/admin_pb.js';
import { VramError, type VramErrorCode, type VramManager } from '../../core/vram-manager.js';
import { toConnectError } from './errors.js';

/** The part of the manager the RPCs use (a Pick, so a test can hand in a fake). */
export type ModelMemoryControl = Pick<VramManager, 'load' | 'unload' | 'pin'>;

const CODES: Record<VramErrorCode, Code> = {
  invalid_request: Code.InvalidArgument,
  model_not_found: Code.NotFound,
  pinned: Code.FailedPrecondition,
  not_pinned: Code.FailedPrecondition,
  not_loadable: Code.FailedPrecondition,
  backend_failed: Code.Unavailable,
  aborted: Code.Canceled,
};

function fail(error: unknown, ctx: HandlerContext): ConnectError {
  const mapped = VramError.isInstance(error) ? new ConnectError(error.message, CODES[error.code], undefined, undefined, error) : error;
  return toConnectError(mapped, ctx);
}

export function createAdminModelsService(manager: ModelMemoryControl): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async loadModel(request, ctx) {
      try {
        const result = await manager.load(request.model, ctx.signal);
        return create(LoadModelResponseSchema, { ok: result.ok, message: result.message });
      } catch (error) {
        throw fail(error, ctx);
      }
    },

    async unloadModel(request, ctx) {
      try {
        const result = await manager.unload(request.model, ctx.signal);
        return create(UnloadModelResponseSchema, { ok: result.ok, message: result.message });
      } catch (error) {
        throw fail(error, ctx);
      }
    },

    async pinModel(request, ctx) {
      try {
        const result = manager.pin(request.model, request.unpin);
        return create(PinModelResponseSchema, { ok: true, pinnedModel: result.pinnedModel ?? '' });
      } catch (error) {
        throw fail(error, ctx);
      }
    },
  };
}

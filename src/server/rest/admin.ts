/**
 * Admin REST routes built so far: GET /admin/plugins and GET /admin/explain?prompt=... (POST
 * /admin/explain with a whole chat request is registered by the OpenAI facade's request mapping).
 * Thin: each calls the same code as its AdminService / RouterService twin.
 */
import type { FastifyInstance } from 'fastify';
import type { BackendSpec } from '../../config/index.js';
import type { Router } from '../../core/router.js';
import { RouterError } from '../../core/types.js';
import type { PluginRegistry } from '../../plugins/loader.js';
import { describePlugins } from '../plugins-info.js';
import { vramReportJson, type VramReport } from '../vram-report.js';
import { sendError } from './errors.js';
import { explanationJson } from './explain-json.js';
import { errorReplyOf, sendErrorReply } from './openai/errors.js';
import { QUALITY_HEADER, translateChatRequest } from './openai/request.js';
import { chatCompletionSchema, type ChatCompletionBody } from './openai/schemas.js';

export interface AdminRoutesDeps {
  router: Router;
  plugins: PluginRegistry;
  backendSpecs: readonly BackendSpec[];
  limits: { maxMessages: number; maxPromptChars: number; externalModelName: string };
  vram: () => Promise<VramReport>;
}

export function adminRoutes(deps: AdminRoutesDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    // Same error JSON (with `param`) as the OpenAI facade, whose request mapping POST /admin/explain reuses.
    app.setErrorHandler((error, request, reply) => sendErrorReply(reply, errorReplyOf(error, request)));

    /** POST /admin/explain: an OpenAI chat request in, the routing decision out; nothing is generated. */
    app.post('/admin/explain', { schema: chatCompletionSchema(deps.limits) }, async (request) => {
      const chat = translateChatRequest(request.body as ChatCompletionBody, {
        defaultModel: deps.limits.externalModelName,
        maxPromptChars: deps.limits.maxPromptChars,
        qualityHeader: request.headers[QUALITY_HEADER],
        requestId: request.id,
      });
      return explanationJson(await deps.router.explain(chat.route));
    });

    /** GET /admin/vram: GPUs, history, warnings and loaded models (monitoring_enabled false without nvidia-smi). */
    app.get('/admin/vram', async () => vramReportJson(await deps.vram()));

    app.get('/admin/plugins', async () => ({
      plugins: describePlugins(deps.plugins, deps.backendSpecs).map((p) => ({
        name: p.name,
        version: p.version,
        kind: p.kind,
        specification_version: p.specificationVersion,
        source: p.source,
        location: p.source === 'builtin' ? null : p.location,
        description: p.description ?? null,
        instances: p.instances,
      })),
    }));

    app.get<{ Querystring: { prompt?: string; quality_preference?: string } }>(
      '/admin/explain',
      {
        schema: {
          querystring: {
            type: 'object',
            properties: { prompt: { type: 'string', minLength: 1, maxLength: 1_000_000 }, quality_preference: { type: 'string' } },
            required: ['prompt'],
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const pref = request.query.quality_preference;
        const qualityPreference = pref === undefined ? undefined : Number(pref);
        if (qualityPreference !== undefined && !(qualityPreference >= 0 && qualityPreference <= 1)) {
          return sendError(reply, 400, 'quality_preference must be a number from 0 to 1', 'invalid_request_error', null, 'quality_preference');
        }
        try {
          const explanation = await deps.router.explain({
            model: '',
            messages: [{ role: 'user', content: request.query.prompt! }],
            qualityPreference,
            protocol: 'rest',
            requestId: request.id,
          });
          return explanationJson(explanation);
        } catch (error) {
          if (RouterError.isInstance(error)) return sendError(reply, 400, error.message, 'invalid_request_error', error.code, error.details.param ?? null);
          throw error;
        }
      },
    );
  };
}

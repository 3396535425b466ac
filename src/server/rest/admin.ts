/**
 * Admin REST routes built so far: GET /admin/plugins, GET /admin/vram, GET /admin/explain?prompt=...
 * and POST /admin/explain with a whole chat request (through the OpenAI facade's request mapping).
 * Thin: each calls the same code as its AdminService / RouterService twin. Query strings are
 * whitelisted (query.ts): an unknown parameter is a 400, not silently dropped.
 *
 * An explanation's factors are weighted exactly as RouterService.Explain shows them (each the amount
 * it adds to total_score, so they sum to it): one weighting, weightedFactors, for both doors.
 */
import type { FastifyInstance } from 'fastify';
import type { BackendSpec } from '../../config/index.js';
import type { Router } from '../../core/router.js';
import type { Explanation, RouteRequest } from '../../core/types.js';
import { checkRouteRequest, RANGES } from '../../core/validate.js';
import type { PluginRegistry } from '../../plugins/loader.js';
import { describePlugins, type JudgesInUse } from '../plugins-info.js';
import { vramReportJson, type VramReport } from '../vram-report.js';
import { sendError } from './errors.js';
import { explanationJson } from './explain-json.js';
import { QUALITY_HEADER, translateChatRequest } from './openai/request.js';
import { chatCompletionSchema, type ChatCompletionBody } from './openai/schemas.js';
import { whitelistedQuery } from './query.js';

export interface AdminRoutesDeps {
  router: Router;
  plugins: PluginRegistry;
  backendSpecs: readonly BackendSpec[];
  /** Which judges are in use (the plugin listing marks them). */
  judges?: JudgesInUse;
  limits: { maxMessages: number; maxPromptChars: number; externalModelName: string };
  vram: () => Promise<VramReport>;
}

// Response schemas of the admin routes. Declared fields are serialised by fast-json-stringify;
// `additionalProperties: true` lets a field another capability adds to an explanation through
// (JSON-encoded) instead of dropping it silently: these are operator answers, not a public contract.
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;

const explanationSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    category: str,
    complexity: str,
    complexity_score: num,
    confidence: num,
    classifier: str,
    needs: {
      type: 'object',
      additionalProperties: true,
      properties: { vision: { type: 'boolean' }, tools: { type: 'boolean' }, json: { type: 'boolean' }, min_context_tokens: { type: ['integer', 'null'] } },
    },
    quality_preference: num,
    selected_model: nullableStr,
    candidates: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          model: str,
          backend: str,
          total_score: { type: ['number', 'null'] },
          factors: {
            type: ['object', 'null'],
            additionalProperties: true,
            properties: { capability: num, benchmark: num, speed: num, recency: num, feedback: num, size_penalty: num, vram: num },
          },
          estimated: { type: 'array', items: str },
          excluded: { type: 'boolean' },
          reason: nullableStr,
        },
      },
    },
  },
} as const;

const pluginsSchema = {
  type: 'object',
  properties: {
    plugins: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          name: str,
          version: str,
          kind: str,
          specification_version: str,
          source: str,
          location: nullableStr,
          description: nullableStr,
          instances: { type: 'array', items: str },
        },
      },
    },
  },
} as const;

export function adminRoutes(deps: AdminRoutesDeps) {
  const explained = (e: Explanation) => explanationJson(e, deps.router.weights);
  return async (app: FastifyInstance): Promise<void> => {
    /** POST /admin/explain: an OpenAI chat request in, the routing decision out; nothing is generated. */
    app.post('/admin/explain', { schema: { body: chatCompletionSchema(deps.limits).body, response: { 200: explanationSchema } } }, async (request) => {
      const chat = translateChatRequest(request.body as ChatCompletionBody, {
        defaultModel: deps.limits.externalModelName,
        maxMessages: deps.limits.maxMessages,
        maxPromptChars: deps.limits.maxPromptChars,
        qualityHeader: request.headers[QUALITY_HEADER],
        requestId: request.id,
      });
      return explained(await deps.router.explain(chat.route));
    });

    // No parameters: anything in the query string is a 400 (whitelisting, not silent dropping).
    const noQuery = whitelistedQuery({});

    /** GET /admin/vram: GPUs, history, warnings and loaded models (monitoring_enabled false without nvidia-smi). */
    app.get('/admin/vram', { preValidation: noQuery.preValidation, schema: noQuery.schema }, async () => vramReportJson(await deps.vram()));

    app.get('/admin/plugins', { preValidation: noQuery.preValidation, schema: { ...noQuery.schema, response: { 200: pluginsSchema } } }, async () => ({
      plugins: describePlugins(deps.plugins, deps.backendSpecs, deps.judges).map((p) => ({
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

    /** GET /admin/explain?prompt=...&quality_preference=0..1: the routing decision for one user prompt. */
    const explainQuery = whitelistedQuery(
      {
        prompt: { type: 'string', minLength: 1, maxLength: deps.limits.maxPromptChars },
        quality_preference: { type: 'number', minimum: RANGES.quality_preference.min, maximum: RANGES.quality_preference.max },
      },
      ['prompt'],
    );
    app.get<{ Querystring: { prompt: string; quality_preference?: number } }>(
      '/admin/explain',
      { preValidation: explainQuery.preValidation, schema: { ...explainQuery.schema, response: { 200: explanationSchema } } },
      async (request, reply) => {
        const route: RouteRequest = {
          model: deps.limits.externalModelName,
          messages: [{ role: 'user', content: request.query.prompt }],
          protocol: 'rest',
          requestId: request.id,
        };
        if (request.query.quality_preference !== undefined) route.qualityPreference = request.query.quality_preference;
        const violation = checkRouteRequest(route, deps.limits);
        if (violation) {
          // The one message is the prompt: name the parameter the caller sent.
          const param = violation.param === 'messages[0].content' ? 'prompt' : violation.param;
          return sendError(reply, 400, `Invalid '${param}': ${violation.message}.`, 'invalid_request_error', violation.code, param);
        }
        return explained(await deps.router.explain(route));
      },
    );
  };
}


/**
 * Schema validation of REST requests: strict types for JSON bodies, coercion for the rest.
 *
 * Fastify's Ajv coerces types by default ("10" -> 10, "true" -> true, "hi" -> ["hi"]). Query strings
 * and headers need that (every value arrives as text), but a JSON body has real types, and a wrong
 * one is a client bug to report, not to paper over: OpenAI answers 400 to `"max_tokens": "10"`, and
 * `"messages": "hi"` must fail on `messages`, not on `messages[0]` of an array the client never sent.
 * Both compilers come from fastify's own factory with fastify's options; only coerceTypes differs.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type BuildValidator = ReturnType<typeof AjvCompiler>;
/** Fastify passes its `ajv` server option: Ajv's customOptions and plugins (never JTD mode here). */
type ServerAjvOptions = { customOptions?: Record<string, unknown>; plugins?: unknown[] };

const buildValidator: BuildValidator = (externalSchemas, options) => {
  const build = AjvCompiler();
  const coercing = build(externalSchemas, options);
  const given = (options ?? {}) as ServerAjvOptions;
  const strict = build(externalSchemas, { ...given, customOptions: { ...given.customOptions, coerceTypes: false } } as Parameters<BuildValidator>[1]);
  return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
};

export const schemaController: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: { buildValidator: buildValidator as never },
};

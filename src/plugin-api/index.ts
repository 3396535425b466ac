/**
 * Public entry of the plugin contract (`smarterrouter/plugin-api`): types and error classes only,
 * so a third-party plugin can depend on it without pulling in the router.
 */
export * from './types.js';
export * from './errors.js';

/**
 * `smarterrouter/plugin-api/testing`: the contract test suites, for plugin authors and for the
 * router's own backends. Requires vitest (the suites register describe/it blocks).
 */
export {
  collectChat,
  describeBackendContract,
  expectValidStream,
  FINISH_REASONS,
  type BackendContractOptions,
  type BackendContractSubject,
  type CollectedStream,
} from './contract-suite.js';

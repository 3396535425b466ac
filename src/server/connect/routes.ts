/**
 * Registers every Connect service on the router: RouterService, AdminService, ProfilerService and
 * gRPC server reflection (v1 + v1alpha). Methods whose capability is not built yet answer
 * UNIMPLEMENTED naming that capability.
 */
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
import { AdminService } from '../../../gen/smarterrouter/v1/admin_pb.js';
import { ProfilerService } from '../../../gen/smarterrouter/v1/profiler_pb.js';
import { RouterService } from '../../../gen/smarterrouter/v1/router_pb.js';
import { ALL_SERVICE_FILES, registerReflection } from './reflection.js';
import { withUnimplemented } from './unimplemented.js';

export interface ConnectServices {
  router: Partial<ServiceImpl<typeof RouterService>>;
  admin: Partial<ServiceImpl<typeof AdminService>>;
  profiler: Partial<ServiceImpl<typeof ProfilerService>>;
}

const ROUTER_CAPABILITIES: Record<string, string> = {};
const ADMIN_CAPABILITIES: Record<string, string> = {
};

export function connectRoutes(services: ConnectServices): (router: ConnectRouter) => void {
  return (router) => {
    router.service(RouterService, withUnimplemented(RouterService, services.router, (m) => ROUTER_CAPABILITIES[m] ?? 'request routing'));
    router.service(AdminService, withUnimplemented(AdminService, services.admin, (m) => ADMIN_CAPABILITIES[m] ?? 'administration'));
    router.service(
      ProfilerService,
      withUnimplemented(ProfilerService, services.profiler, () => 'model discovery, profiling and benchmarks'),
    );
    registerReflection(router, ALL_SERVICE_FILES);
  };
}

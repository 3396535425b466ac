/**
 * AdminService: the methods built so far (ListPlugins); the rest answer UNIMPLEMENTED naming their
 * capability (see routes.ts).
 */
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { BackendSpec } from '../../config/index.js';
import {
  AdminService,
  ListPluginsResponseSchema,
  PluginInfoSchema,
  PluginKind,
  PluginSource,
} from '../../../gen/smarterrouter/v1/admin_pb.js';
import type { PluginRegistry } from '../../plugins/loader.js';
import { describePlugins } from '../plugins-info.js';

const KIND = { backend: PluginKind.BACKEND, classifier: PluginKind.CLASSIFIER, judge: PluginKind.JUDGE } as const;
const SOURCE = { builtin: PluginSource.BUILTIN, package: PluginSource.PACKAGE, path: PluginSource.PATH } as const;

export function createAdminService(deps: { plugins: PluginRegistry; backendSpecs: readonly BackendSpec[] }): Partial<ServiceImpl<typeof AdminService>> {
  return {
    listPlugins() {
      return create(ListPluginsResponseSchema, {
        plugins: describePlugins(deps.plugins, deps.backendSpecs).map((p) =>
          create(PluginInfoSchema, {
            name: p.name,
            version: p.version,
            kind: KIND[p.kind],
            specificationVersion: p.specificationVersion,
            source: SOURCE[p.source],
            location: p.source === 'builtin' ? '' : p.location,
            instances: p.instances,
            description: p.description ?? '',
          }),
        ),
      });
    },
  };
}

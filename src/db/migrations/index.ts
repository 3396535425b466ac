/**
 * Every migration, in order. Listed explicitly (no folder scanning) so they run the same under tsx,
 * vitest and compiled code. Never edit a migration that has shipped: add a new one.
 */
import type { MigrationObject } from '@mikro-orm/core';
import { Migration0001InitialSchema } from './0001-initial-schema.js';
import { Migration0002ProfileResults } from './0002-profile-results.js';

export const MIGRATIONS: MigrationObject[] = [
  { name: '0001-initial-schema', class: Migration0001InitialSchema },
  { name: '0002-profile-results', class: Migration0002ProfileResults },
];

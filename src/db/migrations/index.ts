/**
 * Every migration, in order. Listed explicitly (no folder scanning) so they run the same under tsx,
 * vitest and compiled code. Never edit a migration that has shipped: add a new one.
 */
import type { MigrationObject } from '@mikro-orm/core';
import { Migration0001InitialSchema } from './0001-initial-schema.js';

export const MIGRATIONS: MigrationObject[] = [{ name: '0001-initial-schema', class: Migration0001InitialSchema }];

/**
 * Which registry models a profiling request covers: every available chat model when none is named,
 * else the named ones resolved like a client would name them (router-wide id, or a backend id one
 * backend alone has). Both doors (ProfilerService and POST /admin/reprofile) map the leftovers to
 * their own errors: blank names (invalid argument), unknown names (not found), known but unavailable
 * models (precondition).
 */
import type { RegistryEntry } from '../registry.js';

export interface EntryLookup {
  resolve(name: string): RegistryEntry | undefined;
  entriesList(): RegistryEntry[];
}

export interface EntrySelection {
  entries: RegistryEntry[];
  unknown: string[];
  unavailable: string[];
  /** How many of the names were empty or blank: a mistake to refuse, never "every model". */
  blank: number;
}

export function selectProfileEntries(registry: EntryLookup, names: readonly string[]): EntrySelection {
  const wanted = names.map((n) => n.trim());
  const blank = wanted.filter((n) => n === '').length;
  // Only an empty list means every model; a list of blank ids selects nothing.
  if (names.length === 0) return { entries: registry.entriesList().filter((e) => e.available && e.info.capabilities.chat), unknown: [], unavailable: [], blank };
  const selection: EntrySelection = { entries: [], unknown: [], unavailable: [], blank };
  for (const name of wanted) {
    if (name === '') continue;
    const entry = registry.resolve(name);
    if (!entry) selection.unknown.push(name);
    else if (!entry.available) selection.unavailable.push(entry.key);
    else if (!selection.entries.includes(entry)) selection.entries.push(entry);
  }
  return selection;
}

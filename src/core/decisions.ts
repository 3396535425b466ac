/**
 * Where the core sends what it decided and what users said about it. The core only knows these
 * interfaces; the database layer implements them (writes batched off the request path).
 */
import type { Attempt, CacheStatus, CandidateExplanation, Protocol } from './types.js';

export interface DecisionData {
  responseId: string;
  requestId?: string;
  createdAt: Date;
  protocol: Protocol;
  category: string;
  complexity: string;
  complexityScore: number;
  selectedModel: string | null;
  qualityPreference: number;
  routed: boolean;
  candidates: CandidateExplanation[];
  attempts: Attempt[];
  cache: CacheStatus;
  /** ok | no_candidates | all_candidates_failed | aborted */
  status: string;
  /** Time from request to first token (or to failure), in ms. */
  latencyMs: number;
}

export interface FeedbackData {
  responseId: string;
  modelKey: string;
  category: string;
  score: number;
  comment?: string;
  createdAt: Date;
}

/** Filters for listing recent decisions. */
export interface DecisionQuery {
  /** At most this many, newest first. */
  limit: number;
  /** Only decisions that selected this model key. */
  model?: string;
  /** Only decisions in this category. */
  category?: string;
}

export type DecisionListener = (decision: DecisionData) => void;

/** What became of a routing decision. */
export type DecisionStatus = 'ok' | 'no_candidates' | 'all_candidates_failed' | 'aborted' | 'failed_after_first_token';

export interface DecisionStore {
  /** Queues a decision for writing; never blocks the request. */
  record(decision: DecisionData): void;
  /**
   * Changes the status of a decision already recorded: a stream recorded as `ok` at its first token
   * that then ended otherwise (`aborted`: the client left or the router stopped;
   * `failed_after_first_token`: the backend failed mid-answer). Never blocks the request; watchers
   * (subscribe) are not told again.
   */
  settle(responseId: string, status: DecisionStatus): void;
  /** Finds a decision by response id (recent ones from memory, older ones from the store). */
  find(responseId: string): Promise<DecisionData | undefined>;
  /** Stores feedback durably before the client is told it was accepted. */
  saveFeedback(feedback: FeedbackData): Promise<void>;
  /** Every stored feedback, to rebuild the in-memory means at start-up. */
  loadFeedback(): Promise<FeedbackData[]>;
  /** Writes what is queued (shutdown, tests). */
  flush(): Promise<void>;
  /** Recent decisions, newest first (admin views; never on the request path). */
  list(query: DecisionQuery): Promise<DecisionData[]>;
  /** Calls listener for every decision recorded from now on; returns the unsubscribe function. */
  subscribe(listener: DecisionListener): () => void;
}

/** A set of listeners where one that throws cannot break the request that recorded a decision. */
export class DecisionListeners {
  private readonly listeners = new Set<DecisionListener>();
  add(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(decision: DecisionData): void {
    for (const listener of this.listeners) {
      try {
        listener(decision);
      } catch {
        // A watcher's bug must not fail a chat request.
      }
    }
  }
}

export function matchesQuery(d: DecisionData, q: Omit<DecisionQuery, 'limit'>): boolean {
  return (!q.model || d.selectedModel === q.model) && (!q.category || d.category === q.category);
}

/** In-memory store for tests and for running without persistence. */
export class MemoryDecisionStore implements DecisionStore {
  readonly decisions = new Map<string, DecisionData>();
  readonly feedback: FeedbackData[] = [];
  private readonly listeners = new DecisionListeners();
  record(decision: DecisionData): void {
    this.decisions.set(decision.responseId, decision);
    this.listeners.emit(decision);
  }
  settle(responseId: string, status: DecisionStatus): void {
    const decision = this.decisions.get(responseId);
    if (decision) decision.status = status;
  }
  async find(responseId: string): Promise<DecisionData | undefined> {
    return this.decisions.get(responseId);
  }
  async saveFeedback(feedback: FeedbackData): Promise<void> {
    this.feedback.push(feedback);
  }
  async loadFeedback(): Promise<FeedbackData[]> {
    return [...this.feedback];
  }
  async flush(): Promise<void> {}
  async list(query: DecisionQuery): Promise<DecisionData[]> {
    return [...this.decisions.values()].reverse().filter((d) => matchesQuery(d, query)).slice(0, query.limit);
  }
  subscribe(listener: DecisionListener): () => void {
    return this.listeners.add(listener);
  }
}

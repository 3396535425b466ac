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

export interface DecisionStore {
  /** Queues a decision for writing; never blocks the request. */
  record(decision: DecisionData): void;
  /** Finds a decision by response id (recent ones from memory, older ones from the store). */
  find(responseId: string): Promise<DecisionData | undefined>;
  /** Stores feedback durably before the client is told it was accepted. */
  saveFeedback(feedback: FeedbackData): Promise<void>;
  /** Every stored feedback, to rebuild the in-memory means at start-up. */
  loadFeedback(): Promise<FeedbackData[]>;
  /** Writes what is queued (shutdown, tests). */
  flush(): Promise<void>;
}

/** In-memory store for tests and for running without persistence. */
export class MemoryDecisionStore implements DecisionStore {
  readonly decisions = new Map<string, DecisionData>();
  readonly feedback: FeedbackData[] = [];
  record(decision: DecisionData): void {
    this.decisions.set(decision.responseId, decision);
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
}

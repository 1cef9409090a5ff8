// CONTRACT STUB — owned by the routes helper, who replaces the bodies.
import type { RouteDefinition } from './types.js';

export interface RouteConflict {
  /** Index (in the input array) of the later route of the pair. */
  readonly index: number;
  /** Index of the earlier route it cannot be told apart from. */
  readonly otherIndex: number;
  readonly message: string;
}

/** Pairs of routes that can never be told apart (same shape, overlapping methods). */
export function findRouteConflicts<T>(defs: readonly RouteDefinition<T>[]): RouteConflict[] {
  void defs;
  return [];
}

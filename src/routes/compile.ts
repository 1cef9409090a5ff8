// CONTRACT STUB — owned by the routes helper, who replaces the bodies.
import type { Matcher, RouteDefinition } from './types.js';

/** Build the radix tree and compile it to a specialized matcher. Throws Error on conflicts (callers run findRouteConflicts first). */
export function compileRouter<T>(defs: readonly RouteDefinition<T>[]): Matcher<T> {
  void defs;
  throw new Error('not implemented');
}

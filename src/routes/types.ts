/**
 * The router's contract, shared by the compiled matcher (compile.ts) and the
 * plain reference matcher (reference.ts) so one conformance table runs on both.
 */

/** What a route table is built from: a template and the data carried by each method. */
export interface RouteDefinition<T> {
  /** Canonical template: literals, `:name` segments, optional final `*`. */
  readonly template: string;
  /** Upper-case methods this definition serves. */
  readonly methods: readonly string[];
  /** Carried back on a match (scopegate stores the compiled route policy here). */
  readonly data: T;
}

export interface MatchFound<T> {
  readonly kind: 'found';
  readonly template: string;
  readonly data: T;
  /** Names of the `:params` in template order; the wildcard, if any, is named `*`. */
  readonly paramNames: readonly string[];
  /** Values in the same order as paramNames (raw canonical segments, not decoded further). */
  readonly paramValues: readonly string[];
}

export interface NoRoute {
  readonly kind: 'no_route';
}

export interface MethodNotAllowed {
  readonly kind: 'method_not_allowed';
  readonly template: string;
  /** Sorted, with HEAD included wherever GET is. The value of the `Allow` header. */
  readonly allow: readonly string[];
}

export type MatchResult<T> = MatchFound<T> | NoRoute | MethodNotAllowed;

export interface Matcher<T> {
  /**
   * `path` must already be canonical (normalize.ts). Matching is case-sensitive.
   * HEAD falls back to GET when no HEAD route matches.
   */
  match(method: string, path: string): MatchResult<T>;
}

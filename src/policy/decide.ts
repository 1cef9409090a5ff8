// CONTRACT STUB — the lead replaces the body.
import type { Config } from '../config/schema.js';
import type { TokenVerifier } from '../auth/types.js';
import type { Decision } from './decision.js';

export interface Decider {
  /**
   * rawHeaders is Node's req.rawHeaders (flat [name, value, …]) so duplicates are visible.
   * Synchronous unless a JWKS fetch is genuinely needed.
   */
  decide(method: string, target: string, rawHeaders: readonly string[]): Decision | Promise<Decision>;
}

export function createDecider(config: Config, verifier: TokenVerifier): Decider {
  void config; void verifier;
  throw new Error('not implemented');
}

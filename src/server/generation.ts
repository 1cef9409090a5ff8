/**
 * A generation: the pieces a request needs, built from one config and swapped
 * as one on reload. A request reads the generation once when it arrives and
 * uses that object to the end, so in-flight requests finish on the config they
 * started with (docs/architecture.md, Reload).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuthVerifier, type AuthVerifier } from '../auth/introspect-verifier.js';
import { conditionClaims } from '../policy/conditions.js';
import type { AuthHooks } from '../auth/types.js';
import type { Config } from '../config/schema.js';
import { createPlanner, type Planner } from '../policy/plan.js';
import { createForwarder, type ForwardOutcome, type Forwarder } from '../proxy/forward.js';
import { createHeaderPolicy, type HeaderPolicy } from '../proxy/headers.js';
import { createAnswers, type Answers } from '../respond/answer.js';
import { sendError } from '../respond/error.js';

export interface Generation {
  readonly config: Config;
  readonly verifier: GenerationVerifier;
  readonly planner: Planner;
  readonly answers: Answers;
  readonly headers: HeaderPolicy;
  /** An authz-only config has no upstream: its forwarder refuses (502) and is never reached, having no proxy listener. */
  readonly forwarder: Forwarder;
}

// ---- the token verifier across generations -----------------------------------
// Everything that knows how a verifier is built and how signing keys are carried
// from one generation to the next is in these two functions.

/** JWTs to the JWT verifier, opaque tokens to the introspector when one is configured. */
export type GenerationVerifier = AuthVerifier;

/**
 * The verifier for a new generation. With `previous`, issuers whose key settings
 * are unchanged take over its JWKS stores (keys, refresh timer, cooldown) instead
 * of fetching again; an introspector is built anew (the client secret is re-read).
 * Throws when the introspection client secret cannot be read.
 */
export function createGenerationVerifier(config: Config, hooks: AuthHooks, previous?: GenerationVerifier): GenerationVerifier {
  // Tokens keep the claims the routes' `where` conditions read, and nothing else of the payload.
  return createAuthVerifier(config.auth, hooks, previous, conditionClaims(config.routes));
}

/**
 * Close what `retiring` holds that no other open verifier took over: key stores
 * are reference-counted by the keyring, so a store shared with the successor stays open;
 * an introspector closes once the calls of requests still on the old generation are over.
 */
export function retireVerifier(retiring: GenerationVerifier): Promise<void> {
  return retiring.retire();
}

// -------------------------------------------------------------------------------

export interface GenerationOptions {
  /** limits.max_header_count as the listener was created with (restart-only). */
  readonly maxHeaderCount: number;
  /** The generation being replaced: its upstream pool is kept when the upstream did not change. */
  readonly previous?: Generation;
  /** Already compiled for this config and verifier (a reload compiles before it fetches keys). */
  readonly planner?: Planner;
}

/** Whether the upstream settings differ, so the pool must be replaced. */
export function upstreamChanged(current: Config, next: Config): boolean {
  return JSON.stringify(next.upstream) !== JSON.stringify(current.upstream);
}

/** Fail closed: a forward without an upstream is a 502, never an allow with nowhere to go. */
const NO_UPSTREAM: Forwarder = Object.freeze({
  forward(_req: IncomingMessage, res: ServerResponse): Promise<ForwardOutcome> {
    sendError(res, 502, 'bad_gateway', 'no upstream is configured');
    return Promise.resolve({ status: 502, upstreamMs: 0, error: 'ERR_UPSTREAM_UNREACHABLE' });
  },
  close: () => Promise.resolve(),
});

/** Throws when the routes do not compile (a bug: the loader validated them). */
export function buildGeneration(config: Config, verifier: GenerationVerifier, options: GenerationOptions): Generation {
  const planner = options.planner ?? createPlanner(config, verifier, { maxHeaderCount: options.maxHeaderCount });
  const previous = options.previous;
  return {
    config,
    verifier,
    planner,
    answers: createAnswers(config, planner.discovery),
    headers: createHeaderPolicy(config.identityHeaders, senderHeaderOptions(config)),
    forwarder:
      config.upstream === undefined
        ? NO_UPSTREAM
        : previous !== undefined && !upstreamChanged(previous.config, config)
          ? previous.forwarder
          : createForwarder(config.upstream),
  };
}

/** The mTLS certificate header is a credential the proxy in front set: stripped before forwarding, like identity headers. */
export function senderHeaderOptions(config: Config): { readonly strip?: readonly string[] } {
  return config.auth.mtls === undefined ? {} : { strip: [config.auth.mtls.certHeader] };
}

/** Settings a running process cannot change: sockets already bound, Node parser limits fixed at creation. */
export function restartRequiredChanges(current: Config, next: Config): string[] {
  const changed: string[] = [];
  if (JSON.stringify(current.listen) !== JSON.stringify(next.listen)) changed.push('listen');
  if (JSON.stringify(current.adminListen) !== JSON.stringify(next.adminListen)) changed.push('admin_listen');
  if (JSON.stringify(current.authzListen) !== JSON.stringify(next.authzListen)) changed.push('authz_listen');
  // The certificate files' content is re-read while running (server/tls.ts); which files, and TLS on or off, is fixed.
  if (JSON.stringify(current.tls) !== JSON.stringify(next.tls)) changed.push('tls');
  if (current.limits.maxHeaderBytes !== next.limits.maxHeaderBytes) changed.push('limits.max_header_bytes');
  // Node copies maxHeadersCount into each connection's parser when it is accepted.
  if (current.limits.maxHeaderCount !== next.limits.maxHeaderCount) changed.push('limits.max_header_count');
  // The primary forked its workers at start.
  if (current.workers !== next.workers) changed.push('workers');
  return changed;
}

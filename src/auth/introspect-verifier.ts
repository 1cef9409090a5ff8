/**
 * The token step as the request path sees it: one TokenVerifier that sends a compact JWS
 * to the JWT verifier and any other token to the introspector, when `auth.introspection`
 * is configured (README, Opaque tokens). Without it every token goes to the JWT verifier,
 * which refuses an opaque one as malformed. The server and `explain --token` both build
 * their verifier here, so they route tokens by the same rule.
 */
import { readFileSync } from 'node:fs';
import type { AuthConfig, IntrospectionConfig } from '../config/schema.js';
import { createIntrospector, isJwsCompact, type Introspector } from './introspect.js';
import type { AuthHooks, TokenVerifier } from './types.js';
import { createTokenVerifier } from './verify.js';

/** A verifier that may also introspect; `jwt` is what a successor takes key stores over from. */
export interface AuthVerifier extends TokenVerifier {
  readonly jwt: TokenVerifier;
  readonly introspector: Introspector | undefined;
  /**
   * Close it once a newer generation replaced it: key stores now (those the successor took
   * over stay open), the introspector once no call it started can still be waiting:
   * requests of the old generation may be awaiting one, and closing the pool under them
   * would answer 503.
   */
  retire(): Promise<void>;
}

/** The client secret could not be read: the message names the file or variable, never a value. */
export class ClientSecretError extends Error {}

/**
 * The client secret from its file (trailing whitespace trimmed: editors and `echo` add a
 * newline) or its environment variable. Read when a generation is built, so a reload re-reads it.
 */
export function readClientSecret(config: IntrospectionConfig, env: NodeJS.ProcessEnv = process.env): string {
  let secret: string | undefined;
  let source: string;
  if (config.clientSecretFile !== undefined) {
    source = `client_secret_file ${config.clientSecretFile}`;
    try {
      secret = readFileSync(config.clientSecretFile, 'utf8').trimEnd();
    } catch (err) {
      throw new ClientSecretError(`auth.introspection: cannot read ${source} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    source = `client_secret_env ${config.clientSecretEnv ?? ''}`;
    secret = config.clientSecretEnv === undefined ? undefined : env[config.clientSecretEnv]?.trimEnd();
  }
  if (secret === undefined || secret === '') throw new ClientSecretError(`auth.introspection: ${source} is unset or empty`);
  return secret;
}

function createIntrospectorFor(auth: AuthConfig, config: IntrospectionConfig, hooks: AuthHooks | undefined): Introspector {
  return createIntrospector({
    endpoint: config.endpoint,
    clientId: config.clientId,
    clientSecret: readClientSecret(config),
    issuer: config.issuer,
    audiences: config.audiences,
    cacheTtlS: config.cacheTtlS,
    negativeCacheTtlS: config.negativeCacheTtlS,
    timeoutMs: config.timeoutMs,
    maxInFlight: config.maxInFlight,
    cacheSize: auth.tokenCacheSize,
    maxTokenBytes: auth.maxTokenBytes,
    onCall: hooks?.onIntrospection?.bind(hooks),
  });
}

/**
 * The verifier for `auth`. With `previous`, unchanged issuers keep their key stores (see
 * createTokenVerifier); the introspector is always new, so a reload re-reads the secret.
 * `keepClaims`: the claims route conditions read (policy/conditions.ts conditionClaims).
 * Throws ClientSecretError when the secret cannot be read.
 */
export function createAuthVerifier(auth: AuthConfig, hooks?: AuthHooks, previous?: AuthVerifier, keepClaims?: readonly string[]): AuthVerifier {
  const introspector = auth.introspection === undefined ? undefined : createIntrospectorFor(auth, auth.introspection, hooks);
  const jwt = createTokenVerifier(auth, hooks, { ...(previous === undefined ? {} : { previous: previous.jwt }), ...(keepClaims === undefined ? {} : { keepClaims }) });
  if (introspector === undefined) return { ...jwt, jwt, introspector, retire: () => jwt.close() };
  // The call's deadline, and one more second for its answer to be read and cached.
  const callWindowMs = (auth.introspection?.timeoutMs ?? 0) + 1000;
  return {
    ...jwt,
    jwt,
    introspector,
    verify: (token) => (isJwsCompact(token) ? jwt.verify(token) : introspector.introspect(token)),
    close: async () => {
      await Promise.all([jwt.close(), introspector.close()]);
    },
    retire: async () => {
      await jwt.close();
      setTimeout(() => void introspector.close(), callWindowMs).unref();
    },
  };
}

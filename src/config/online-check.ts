/**
 * `scopegate check --online` (README, `scopegate check --online`): what a config
 * says about its identity providers, compared with what they publish. For each
 * issuer: its JWKS is fetched exactly as `serve` fetches it (the same key store,
 * so "usable keys" means the same thing), its metadata document is read where
 * one exists, and the hosts are checked for documentation placeholders. Every
 * request is bounded by `auth.jwks.timeout_ms` and `auth.jwks.max_bytes`.
 *
 * Findings are values; the command decides the exit code (1 when any is an error).
 */
import { Agent } from 'undici';
import { createJwksStore } from '../auth/jwks.js';
import { satisfyingScopes } from '../policy/scopes.js';
import { trailingSlashOnly } from '../telemetry/diagnosis.js';
import { lookupMetadata, type IdpMetadata, type MetadataFetchOptions } from './idp-metadata.js';
import type { Config, IssuerConfig, JwksConfig, ScopeMatching } from './schema.js';

/** error: tokens cannot work as configured (exit 1). warning: worth a look. ok / note: for the record. */
export type OnlineSeverity = 'error' | 'warning' | 'ok' | 'note';

export interface OnlineFinding {
  readonly severity: OnlineSeverity;
  /** The configured issuer the finding is about, or `introspection`. */
  readonly subject: string;
  readonly message: string;
}

/**
 * Second-level domains reserved for documentation (RFC 2606 §3) and top-level names that
 * can never be a real IdP (RFC 2606 §2: `.example`, `.invalid`): a config still naming
 * one was copied from an example and not filled in.
 */
const PLACEHOLDER_DOMAINS: readonly string[] = ['example.com', 'example.org', 'example.net', 'example', 'invalid'];

/** The host of `url` when it is a placeholder (the domain itself or a subdomain), else undefined. */
export function placeholderHost(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
  return PLACEHOLDER_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`)) ? host : undefined;
}

type Add = (severity: OnlineSeverity, message: string) => void;

/** The issuer's JWKS through the key store `serve` uses: unreachable or without a usable key is an error. */
async function checkJwks(issuer: IssuerConfig, jwks: JwksConfig, add: Add): Promise<void> {
  let outcome: { result: 'success' | 'failure' | 'rejected'; detail: string | undefined } | undefined;
  const store = createJwksStore(issuer, jwks, {
    onJwksFetch: (_issuer, result, detail) => (outcome = { result, detail }),
    onKeySkipped: (_issuer, kid, reason) => add('warning', `jwks ${issuer.jwksUri}: key ${kid ?? '(no kid)'} skipped: ${reason}`),
  });
  try {
    await store.start();
  } finally {
    await store.close();
  }
  const detail = outcome?.detail ?? 'no answer';
  if (outcome?.result === 'success') add('ok', `jwks ${issuer.jwksUri}: ${detail}`);
  else if (outcome?.result === 'rejected') add('error', `jwks ${issuer.jwksUri}: reachable but not usable: ${detail}`);
  else add('error', `jwks ${issuer.jwksUri}: unreachable: ${detail}`);
}

/** The metadata `issuer` must be the configured one exactly (RFC 8414 §3.3): tokens carry the IdP's value. */
function compareIssuer(configured: string, m: IdpMetadata, add: Add): void {
  if (m.issuer === undefined) return add('warning', `metadata ${m.url}: no "issuer" member`);
  if (m.issuer === configured) return add('ok', `metadata ${m.url}: issuer matches`);
  const how = trailingSlashOnly(m.issuer, [configured]) ? ' only by a trailing slash' : '';
  add('error', `metadata ${m.url}: issuer ${JSON.stringify(m.issuer)} differs from the configured issuer ${JSON.stringify(configured)}${how}: tokens from this IdP carry its value and would all be refused (cause "issuer")`);
}

/** Required scopes the IdP does not list; a scope counts as listed when any scope satisfying it is. */
export function absentScopes(required: readonly string[], supported: readonly string[], matching: ScopeMatching): readonly string[] {
  const listed = new Set(supported);
  return required.filter((s) => !satisfyingScopes(s, matching).some((x) => listed.has(x)));
}

function compareMetadata(issuer: IssuerConfig, m: IdpMetadata, required: readonly string[], matching: ScopeMatching, add: Add): void {
  compareIssuer(issuer.issuer, m, add);
  if (m.jwksUri !== undefined && m.jwksUri !== issuer.jwksUri) {
    add('warning', `metadata ${m.url}: jwks_uri ${JSON.stringify(m.jwksUri)} differs from the configured jwks_uri ${JSON.stringify(issuer.jwksUri)}`);
  }
  if (m.scopesSupported === undefined) return add('note', `metadata ${m.url}: no scopes_supported published, scopes not compared`);
  const absent = absentScopes(required, m.scopesSupported, matching);
  // RFC 8414 §2: an IdP may leave supported scopes out of scopes_supported, so this is a warning.
  if (absent.length > 0) add('warning', `metadata ${m.url}: required scopes absent from scopes_supported: ${absent.join(', ')}`);
  else add('ok', `metadata ${m.url}: all ${required.length} required scope(s) in scopes_supported`);
}

async function checkMetadata(issuer: IssuerConfig, fetchOptions: MetadataFetchOptions, required: readonly string[], matching: ScopeMatching, add: Add): Promise<void> {
  const found = await lookupMetadata(issuer.issuer, fetchOptions);
  switch (found.kind) {
    case 'found':
      return compareMetadata(issuer, found.metadata, required, matching, add);
    case 'absent':
      return add('note', `no metadata published at ${found.urls.join(' or ')} (optional)`);
    case 'failed':
      return add('warning', `metadata ${found.url}: could not be read: ${found.reason}`);
    case 'not_a_url':
      return add('note', 'the issuer is not an http(s) URL: no metadata to look up');
  }
}

/** Placeholder hosts in the issuer's URLs (errors: nothing is fetched from them) and audiences (warnings). */
function checkPlaceholders(issuer: IssuerConfig, add: Add): { issuer: boolean; jwks: boolean } {
  const found = { issuer: placeholderHost(issuer.issuer), jwks: placeholderHost(issuer.jwksUri) };
  if (found.issuer !== undefined) add('error', `issuer host ${found.issuer} is a documentation placeholder (RFC 2606): fill in your IdP; metadata not fetched`);
  if (found.jwks !== undefined) add('error', `jwks_uri host ${found.jwks} is a documentation placeholder (RFC 2606): fill in your IdP's JWKS; not fetched`);
  for (const aud of issuer.audiences) {
    const host = placeholderHost(aud);
    if (host !== undefined) add('warning', `audience ${JSON.stringify(aud)} names a documentation placeholder host (${host})`);
  }
  return { issuer: found.issuer !== undefined, jwks: found.jwks !== undefined };
}

/**
 * Check every issuer of `config` against what its IdP publishes, issuers in parallel,
 * findings in config order. `requiredScopes`: the scopes the routes require, compared with
 * each IdP's `scopes_supported`. Never rejects; a network failure is a finding.
 */
export async function checkOnline(config: Config, requiredScopes: readonly string[]): Promise<readonly OnlineFinding[]> {
  const { jwks, scopeMatching } = config.auth;
  const agent = new Agent({ connect: { timeout: jwks.timeoutMs } });
  const fetchOptions: MetadataFetchOptions = { dispatcher: agent, timeoutMs: jwks.timeoutMs, maxBytes: jwks.maxBytes };
  try {
    const perIssuer = await Promise.all(
      config.auth.issuers.map(async (issuer) => {
        const found: OnlineFinding[] = [];
        const add: Add = (severity, message) => void found.push({ severity, subject: issuer.issuer, message });
        const placeholder = checkPlaceholders(issuer, add);
        await Promise.all([
          placeholder.jwks ? undefined : checkJwks(issuer, jwks, add),
          placeholder.issuer ? undefined : checkMetadata(issuer, fetchOptions, requiredScopes, scopeMatching, add),
        ]);
        return found;
      }),
    );
    const introspection = config.auth.introspection;
    if (introspection !== undefined) {
      const host = placeholderHost(introspection.endpoint);
      const finding: OnlineFinding =
        host === undefined
          ? { severity: 'note', subject: 'introspection', message: `${introspection.endpoint} not called (a call needs the client credentials and a token)` }
          : { severity: 'error', subject: 'introspection', message: `endpoint host ${host} is a documentation placeholder (RFC 2606)` };
      perIssuer.push([finding]);
    }
    return perIssuer.flat();
  } finally {
    await agent.destroy();
  }
}

/** One line per finding, then a summary line; `errors` decides the exit code. */
export function formatFindings(findings: readonly OnlineFinding[]): { readonly text: string; readonly errors: number } {
  const count = (s: OnlineSeverity): number => findings.filter((f) => f.severity === s).length;
  const errors = count('error');
  const lines = findings.map((f) => `${f.severity.padEnd(7)}  ${f.subject}: ${f.message}`);
  lines.push(`online: ${errors} error(s), ${count('warning')} warning(s)`);
  return { text: lines.join('\n'), errors };
}

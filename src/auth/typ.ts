/**
 * The per-issuer `typ` allow-list (README, "Identity providers"): when an issuer sets
 * `typ`, the JWS header's `typ` must be one of the values, compared case-insensitively
 * with or without the `application/` prefix (RFC 7515 §4.1.9). Without the list the
 * header rules of jws.ts apply alone (only another kind of JWT is refused).
 */

const MEDIA_TYPE_PREFIX = 'application/';

/** `application/AT+JWT` → `at+jwt`: the form both sides are compared in. */
export function normalizeTyp(typ: string): string {
  const t = typ.toLowerCase();
  return t.startsWith(MEDIA_TYPE_PREFIX) ? t.slice(MEDIA_TYPE_PREFIX.length) : t;
}

/** A predicate over the header's `typ` (undefined when absent): true when the list accepts it. */
export function createTypCheck(allowed: readonly string[]): (typ: unknown) => boolean {
  const accepted = new Set(allowed.map(normalizeTyp));
  return (typ) => typeof typ === 'string' && accepted.has(normalizeTyp(typ));
}

/**
 * The `typ` of a compact JWS's header, read from the token itself: only issuers with
 * an allow-list pay for this second decode of the header, once per verified token.
 * Undefined when absent or unreadable (the parser has already refused a bad header).
 */
export function headerTyp(token: string): unknown {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null ? (header as { typ?: unknown }).typ : undefined;
  } catch {
    return undefined;
  }
}

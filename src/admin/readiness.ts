/**
 * When keys make the pod ready (README, Operations): every issuer marked
 * `readiness: required` (the default) has its signing keys. An optional
 * issuer's IdP outage keeps only its own tokens out (503), not the pod out of
 * the Service.
 */
import type { IssuerKeyState } from '../auth/types.js';
import type { Config } from '../config/schema.js';

/** A check over the keyring's states for this config, built once per generation's config. */
export function requiredKeysReady(config: Config): (states: readonly IssuerKeyState[]) => boolean {
  const optional = new Set(config.auth.issuers.filter((i) => i.readiness === 'optional').map((i) => i.issuer));
  return (states) => states.every((s) => s.loaded || optional.has(s.issuer));
}

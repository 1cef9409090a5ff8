/**
 * The keyring: one JWKS store per configured issuer, handed from one config generation
 * to the next on reload.
 *
 * A successor keyring adopts a store — its keys, refresh timer and cooldown — when the
 * issuer's key-relevant settings are unchanged (issuerFingerprint), instead of fetching
 * again; any other change builds a new store. A store is shared by the keyrings that
 * hold it and closed when the last of them closes, so closing the replaced generation
 * closes exactly the stores its successor did not take over.
 */
import type { AuthConfig, IssuerConfig } from '../config/schema.js';
import { createJwksStore, type JwksStore } from './jwks.js';
import { signatureCheck } from './jws.js';
import type { AuthHooks, IssuerKeyDetail, IssuerKeyState } from './types.js';

export interface Keyring {
  /** The store of one of the issuers this keyring was built for. */
  storeOf(issuer: IssuerConfig): JwksStore;
  /** True once every issuer's store has loaded its key set at least once. */
  ready(): boolean;
  /** Initial fetch of the stores this keyring created (adopted ones are running already). */
  start(): Promise<void>;
  /** Per issuer, in config order: for metrics and /readyz. */
  states(): readonly IssuerKeyState[];
  /** Per issuer, in config order: kids, last fetch, last error, next refresh (the admin page). */
  details(): readonly IssuerKeyDetail[];
  /** Release every store; a store closes when no keyring holds it any more. Idempotent. */
  close(): Promise<void>;
}

/** A store and how many open keyrings hold it. */
interface Holding {
  readonly store: JwksStore;
  holders: number;
}

/**
 * Everything a JWKS store and its per-key signature checks were built from. Audiences
 * and clock skew are read per token by the verifier, so changing them keeps the store.
 */
function issuerFingerprint(config: IssuerConfig, auth: AuthConfig): string {
  return JSON.stringify([config.issuer, config.jwksUri, config.algorithms, auth.jwks]);
}

/** Each open keyring's holdings by fingerprint: what a successor may adopt. Private to this module. */
const holdingsOf = new WeakMap<Keyring, ReadonlyMap<string, Holding>>();

/**
 * The keyring for `auth`. With `previous` (the keyring of the generation being
 * replaced), unchanged issuers take over its stores; a closed keyring hands over nothing.
 */
export function createKeyring(auth: AuthConfig, hooks?: AuthHooks, previous?: Keyring): Keyring {
  const adoptable = previous === undefined ? undefined : holdingsOf.get(previous);
  const byFingerprint = new Map<string, Holding>();
  const byIssuer = new Map<string, Holding>();
  /** Stores this keyring created (and so must start). */
  const created: JwksStore[] = [];

  for (const config of auth.issuers) {
    const fingerprint = issuerFingerprint(config, auth);
    let holding = adoptable?.get(fingerprint);
    if (holding !== undefined) {
      holding.holders++;
    } else {
      holding = { store: createJwksStore(config, auth.jwks, hooks, { createVerifier: signatureCheck }), holders: 1 };
      created.push(holding.store);
    }
    byFingerprint.set(fingerprint, holding);
    byIssuer.set(config.issuer, holding);
  }
  const holdings = [...byIssuer.values()];
  let closed = false;

  const keyring: Keyring = {
    storeOf(issuer) {
      const holding = byIssuer.get(issuer.issuer);
      if (holding === undefined) throw new Error(`issuer ${issuer.issuer} is not on this keyring`);
      return holding.store;
    },
    ready: () => holdings.every((h) => h.store.loaded()),
    start: async () => {
      await Promise.all(created.map((s) => s.start()));
    },
    states: () => holdings.map((h) => h.store.state()),
    details: () => holdings.map((h) => h.store.detail()),
    close: async () => {
      if (closed) return;
      closed = true;
      holdingsOf.delete(keyring);
      for (const h of holdings) h.holders--;
      await Promise.all(holdings.filter((h) => h.holders === 0).map((h) => h.store.close()));
    },
  };
  holdingsOf.set(keyring, byFingerprint);
  return keyring;
}

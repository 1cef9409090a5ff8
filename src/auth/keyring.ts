/**
 * The keyring: one JWKS store per configured `jwks_uri`, handed from one config generation
 * to the next on reload. Issuers that name the same `jwks_uri` (the tenants of one
 * multi-tenant IdP, an IdP's v1 and v2 issuers) share one store: one fetch per refresh
 * for all of them, its key imports allowing the union of their algorithms (each issuer's
 * own allow-list is still checked per token by the verifier).
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
 * Everything a JWKS store and its per-key signature checks were built from (the issuers
 * sharing it name it). Audiences and clock skew are read per token by the verifier, so
 * changing them keeps the store.
 */
function storeFingerprint(store: IssuerConfig, issuers: readonly IssuerConfig[], auth: AuthConfig): string {
  const names = issuers.filter((i) => i.jwksUri === store.jwksUri).map((i) => i.issuer);
  return JSON.stringify([names, store.jwksUri, store.algorithms, auth.jwks]);
}

/**
 * One store's settings per distinct jwks_uri, in config order: named after the first
 * issuer that uses it (its log lines and fetch metrics), importing keys for the union
 * of their algorithms.
 */
function storeConfigs(issuers: readonly IssuerConfig[]): Map<string, IssuerConfig> {
  const byUri = new Map<string, IssuerConfig>();
  for (const config of issuers) {
    const seen = byUri.get(config.jwksUri);
    if (seen === undefined) byUri.set(config.jwksUri, config);
    else byUri.set(config.jwksUri, { ...seen, algorithms: [...new Set([...seen.algorithms, ...config.algorithms])] });
  }
  return byUri;
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

  const byUri = new Map<string, Holding>();
  for (const [uri, storeConfig] of storeConfigs(auth.issuers)) {
    const fingerprint = storeFingerprint(storeConfig, auth.issuers, auth);
    let holding = adoptable?.get(fingerprint);
    if (holding !== undefined) {
      holding.holders++;
    } else {
      holding = { store: createJwksStore(storeConfig, auth.jwks, hooks, { createVerifier: signatureCheck }), holders: 1 };
      created.push(holding.store);
    }
    byFingerprint.set(fingerprint, holding);
    byUri.set(uri, holding);
  }
  for (const config of auth.issuers) byIssuer.set(config.issuer, byUri.get(config.jwksUri) as Holding);
  const holdings = [...byUri.values()];
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
    // Per issuer, so /readyz and the metrics name each one, also when issuers share a store.
    states: () => auth.issuers.map((config) => ({ ...(byIssuer.get(config.issuer) as Holding).store.state(), issuer: config.issuer })),
    details: () => auth.issuers.map((config) => ({ ...(byIssuer.get(config.issuer) as Holding).store.detail(), issuer: config.issuer })),
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

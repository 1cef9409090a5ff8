/**
 * The admin listener's `/status` document (README, "Admin page"): what the
 * running sidecar enforces and how its issuers are doing, read from the live
 * generation. The shape is versioned and described by docs/status.schema.json;
 * the admin page and `scopegate status` read nothing else.
 *
 * Built only from the config's public parts and the key stores' state: never a
 * token, a header value or the introspection client secret.
 */
import type { IssuerKeyDetail, IssuerKeyState } from '../auth/types.js';
import type { Config } from '../config/schema.js';
import type { RoutePolicy } from '../policy/decide.js';
import type { DenialEntry, RecentDenials } from './recent-denials.js';
import type { Readiness } from './server.js';

/** Bumped only when a field changes meaning or goes away; new fields may be added within a version. */
export const STATUS_VERSION = 1;

export interface StatusDocument {
  readonly status_version: typeof STATUS_VERSION;
  readonly generated_at: string;
  readonly started_at: string;
  readonly ready: { readonly ready: boolean; readonly reason: string | null };
  readonly config: {
    readonly file: string;
    readonly sha256: string;
    readonly loaded_at: string;
    /** 1 for the config the process started with, +1 per applied reload. */
    readonly generation: number;
    readonly reloads: number;
    readonly mode: string;
    readonly scope_matching: string;
  };
  readonly listeners: readonly { readonly name: string; readonly url: string }[];
  readonly upstream: string | null;
  readonly routes: readonly StatusRoute[];
  /** null when the config has no scope catalogue. */
  readonly scopes: readonly StatusScope[] | null;
  readonly issuers: readonly StatusIssuer[];
  readonly introspection: { readonly endpoint: string; readonly client_id: string } | null;
  readonly denials: {
    readonly capacity: number;
    readonly counts: Readonly<Record<string, number>>;
    readonly recent: readonly StatusDenial[];
  };
}

export interface StatusRoute {
  readonly methods: readonly string[];
  readonly path: string;
  readonly requirement: string;
  readonly mode: 'enforce' | 'shadow';
  readonly respond: string | null;
  readonly sender_constrained: boolean;
}

export interface StatusScope {
  readonly name: string;
  readonly display_name: string | null;
  readonly description: string | null;
  readonly required: boolean;
  readonly default_off: boolean;
  readonly deprecated: boolean;
  readonly replaced_by: string | null;
  readonly destructive: boolean;
}

export interface StatusIssuer {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly readiness: string;
  readonly loaded: boolean;
  readonly keys: number;
  readonly kids: readonly string[];
  readonly last_fetch_at: string | null;
  readonly last_success_age_s: number | null;
  readonly last_error: string | null;
  readonly next_refresh_at: string | null;
}

/** A kept denial as /status shows it: its time as an ISO string. */
export type StatusDenial = Omit<DenialEntry, 'time'> & { readonly time: string };

/** What the document is read from; every function is called once per /status. */
export interface StatusSources {
  readonly startedAt: number;
  readonly config: () => Config;
  readonly routes: () => readonly RoutePolicy[];
  readonly issuerStates: () => readonly IssuerKeyState[];
  readonly keyDetails: () => readonly IssuerKeyDetail[];
  /** Generation number (1 = the config started with) and when it was installed (epoch ms). */
  readonly generation: () => { readonly number: number; readonly loadedAt: number };
  readonly readiness: () => Readiness;
  readonly listeners: () => readonly { readonly name: string; readonly url: string }[];
  readonly denials: RecentDenials;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

function routeOf(p: RoutePolicy): StatusRoute {
  return { methods: [...p.methods], path: p.template, requirement: p.requirement.text, mode: p.shadow ? 'shadow' : 'enforce', respond: p.respond ?? null, sender_constrained: p.senderConstrained };
}

function scopesOf(config: Config): StatusScope[] | null {
  if (config.catalogue === undefined) return null;
  return config.catalogue.map((s) => ({
    name: s.name,
    display_name: s.displayName ?? null,
    description: s.description ?? null,
    required: s.required,
    default_off: s.defaultOn === false,
    deprecated: s.deprecated,
    replaced_by: s.replacedBy ?? null,
    destructive: s.destructive,
  }));
}

function issuersOf(config: Config, states: readonly IssuerKeyState[], details: readonly IssuerKeyDetail[]): StatusIssuer[] {
  const byIssuer = new Map(states.map((s) => [s.issuer, s]));
  const detailOf = new Map(details.map((d) => [d.issuer, d]));
  return config.auth.issuers.map((i) => {
    const s = byIssuer.get(i.issuer);
    const d = detailOf.get(i.issuer);
    return {
      issuer: i.issuer,
      jwks_uri: i.jwksUri,
      readiness: i.readiness,
      loaded: s?.loaded ?? false,
      keys: s?.keyCount ?? 0,
      kids: [...(d?.kids ?? [])],
      last_fetch_at: iso(d?.lastFetchAt),
      last_success_age_s: s?.ageSeconds === undefined ? null : Math.round(s.ageSeconds * 10) / 10,
      last_error: d?.lastError ?? null,
      next_refresh_at: iso(d?.nextRefreshAt),
    };
  });
}

function denialOf(d: DenialEntry): StatusDenial {
  return { ...d, time: new Date(d.time).toISOString() };
}

function readinessOf(r: Readiness): StatusDocument['ready'] {
  return typeof r === 'boolean' ? { ready: r, reason: null } : { ready: r.ready, reason: r.reason ?? null };
}

/** The document as of now. */
export function buildStatus(src: StatusSources): StatusDocument {
  const config = src.config();
  const generation = src.generation();
  const introspection = config.auth.introspection;
  return {
    status_version: STATUS_VERSION,
    generated_at: new Date().toISOString(),
    started_at: new Date(src.startedAt).toISOString(),
    ready: readinessOf(src.readiness()),
    config: {
      file: config.source.file,
      sha256: config.source.hash,
      loaded_at: new Date(generation.loadedAt).toISOString(),
      generation: generation.number,
      reloads: generation.number - 1,
      mode: config.mode,
      scope_matching: config.auth.scopeMatching,
    },
    listeners: src.listeners(),
    upstream: config.upstream?.url ?? null,
    routes: src.routes().map(routeOf),
    scopes: scopesOf(config),
    issuers: issuersOf(config, src.issuerStates(), src.keyDetails()),
    // The endpoint and client id are configuration, not credentials; the secret is never read here.
    introspection: introspection === undefined ? null : { endpoint: introspection.endpoint, client_id: introspection.clientId },
    denials: { capacity: src.denials.capacity, counts: src.denials.counts(), recent: src.denials.list().map(denialOf) },
  };
}

/**
 * Metrics read at scrape time from their owners (readiness, key stores, the
 * verified-token cache, the DPoP replay cache, the log output): nothing on the
 * request path calls them. Split from metrics.ts to keep each file readable.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { IssuerKeyState } from '../auth/types.js';
import { logLinesDropped } from './log-output.js';

export interface TokenCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/** Set once the pieces exist (createMetrics comes first); a scrape before that reports nothing for them. */
export interface ScrapeSources {
  ready?: () => boolean;
  issuers?: () => readonly IssuerKeyState[];
  tokenCache?: () => TokenCacheStats;
  replayCache?: () => number | undefined;
}

export function registerScrapeMetrics(registers: Registry[], sources: ScrapeSources): void {
  new Gauge({
    name: 'scopegate_ready',
    help: '1 when /readyz answers 200 (config loaded, keys loaded for every issuer, not draining), else 0.',
    registers,
    collect() {
      if (sources.ready !== undefined) this.set(sources.ready() ? 1 : 0);
    },
  });

  new Gauge({
    name: 'scopegate_jwks_keys',
    help: 'Signing keys currently loaded, by issuer.',
    labelNames: ['issuer'] as const,
    registers,
    collect() {
      if (sources.issuers === undefined) return;
      this.reset();
      for (const s of sources.issuers()) this.set({ issuer: s.issuer }, s.keyCount);
    },
  });
  new Gauge({
    name: 'scopegate_jwks_age_seconds',
    help: "Seconds since the issuer's keys were last fetched successfully (absent until the first success).",
    labelNames: ['issuer'] as const,
    registers,
    collect() {
      if (sources.issuers === undefined) return;
      this.reset();
      for (const s of sources.issuers()) if (s.ageSeconds !== undefined) this.set({ issuer: s.issuer }, s.ageSeconds);
    },
  });
  // The verifier owns its counters; exporting them as counters read at scrape
  // time keeps the hot path free of metric calls on every cache lookup.
  scrapedCounter(registers, 'scopegate_token_cache_hits_total', 'Verified-token cache hits since start.', () => sources.tokenCache?.().hits);
  scrapedCounter(registers, 'scopegate_token_cache_misses_total', 'Verified-token cache misses since start.', () => sources.tokenCache?.().misses);
  new Gauge({
    name: 'scopegate_token_cache_entries',
    help: 'Entries in the verified-token cache.',
    registers,
    collect() {
      if (sources.tokenCache === undefined) return;
      this.set(sources.tokenCache().size);
    },
  });

  new Gauge({
    name: 'scopegate_dpop_replay_cache_entries',
    help: 'Entries in the DPoP proof replay cache (jti seen within the proof window); 0 while auth.dpop is not configured.',
    registers,
    collect() {
      this.reset();
      const size = sources.replayCache?.();
      if (size !== undefined) this.set(size);
    },
  });

  // Process-wide like stdout itself: the log output counts, a scrape reads it.
  scrapedCounter(
    registers,
    'scopegate_log_lines_dropped_total',
    'Log lines dropped whole because the stdout reader did not keep up (the buffer held logging.buffer_bytes) or went away.',
    logLinesDropped,
  );
}

/** A counter whose count its owner keeps: set to `read()` at each scrape; left as it is while `read` has nothing (undefined). */
function scrapedCounter(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      const count = read();
      if (count === undefined) return;
      this.reset();
      this.inc(count);
    },
  });
}

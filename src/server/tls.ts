/**
 * TLS on the proxy listener (README, TLS): the server options for node:https, and
 * the certificate reloader. The pair is re-read when its files change (the same
 * directory watch as the config's, so a Kubernetes Secret's `..data` swap counts)
 * and on SIGHUP; a new valid pair goes in with setSecureContext(), which applies to
 * the next handshake: open connections keep the context they were made with, none
 * is dropped. A pair that cannot be served keeps the last good one and is logged
 * once per content (a SIGHUP, an explicit request, always gets its answer).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Server as TlsServer, SecureContextOptions } from 'node:tls';
import { basename, dirname } from 'node:path';
import type { TlsConfig } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';
import { concernsConfig, RELOAD_DEBOUNCE_MS } from './reload.js';
import { readTlsPair, type TlsPair } from './tls-pair.js';

export type TlsReloadResult = 'applied' | 'unchanged' | 'invalid';

export interface TlsCertificates {
  /** What node:https needs for the first context (the pair read at start). */
  readonly options: SecureContextOptions;
  /** The server whose context reload() replaces (the proxy listener, once created). */
  attach(server: TlsServer): void;
  /** Re-read the pair; serve it from the next handshake on if it is valid and new. */
  reload(trigger: string): TlsReloadResult;
  /** Reload when either file's directory changes. */
  watch(): void;
  close(): void;
}

/** The pair could not be read at start (it was fine when the config was loaded a moment ago). */
export class TlsStartError extends Error {
  constructor(message: string) {
    super(`tls: ${message}`);
    this.name = 'TlsStartError';
  }
}

function contextOptions(config: TlsConfig, pair: TlsPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: config.minVersion };
}

/** Describes the served certificate in log lines. */
function described(pair: TlsPair): Record<string, string> {
  return { serial: pair.serial, fingerprint256: pair.fingerprint256, valid_to: pair.validTo };
}

/** Reads the pair now; throws TlsStartError when it cannot be served. */
export function createTlsCertificates(config: TlsConfig, logger: Logger): TlsCertificates {
  const first = readTlsPair(config.certFile, config.keyFile);
  if (!first.ok) throw new TlsStartError(first.message);
  let served: TlsPair = first;
  let lastRejected: string | undefined;
  let server: TlsServer | undefined;
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  logger.info({ cert_file: config.certFile, ...described(first) }, 'tls certificate loaded');

  function reload(trigger: string): TlsReloadResult {
    const pair = readTlsPair(config.certFile, config.keyFile);
    if (pair.contentHash === served.contentHash) return 'unchanged';
    if (!pair.ok) {
      if (trigger !== 'SIGHUP' && pair.contentHash === lastRejected) return 'invalid';
      lastRejected = pair.contentHash;
      logger.error({ trigger, [pair.option]: pair.option === 'cert_file' ? config.certFile : config.keyFile, error: pair.message }, 'tls certificate reload rejected; still serving the last good certificate');
      return 'invalid';
    }
    lastRejected = undefined;
    try {
      server?.setSecureContext(contextOptions(config, pair));
    } catch (error) {
      // The pair parsed but OpenSSL refused it (e.g. a key type it cannot use): keep the last good one.
      logger.error({ trigger, err: error, cert_file: config.certFile }, 'tls certificate reload rejected; still serving the last good certificate');
      return 'invalid';
    }
    served = pair;
    logger.info({ trigger, cert_file: config.certFile, ...described(pair) }, 'tls certificate reloaded');
    return 'applied';
  }

  function watchDirectory(directory: string, names: readonly string[]): void {
    try {
      const w = watch(directory, { persistent: false }, (_event, changed) => {
        if (!names.some((name) => concernsConfig(changed, name))) return;
        // A Secret update is several renames, and a hand rotation writes two files: one reload per burst.
        clearTimeout(timer);
        timer = setTimeout(() => reload('file change'), RELOAD_DEBOUNCE_MS);
        timer.unref();
      });
      w.on('error', (error) => logger.warn({ err: error, directory }, 'tls certificate watch failed; SIGHUP still reloads'));
      watchers.push(w);
    } catch (error) {
      logger.warn({ err: error, directory }, 'cannot watch the tls certificate directory; SIGHUP still reloads');
    }
  }

  return {
    options: contextOptions(config, first),
    attach(s) {
      server = s;
    },
    reload,
    watch() {
      const byDirectory = new Map<string, string[]>();
      for (const file of [config.certFile, config.keyFile]) byDirectory.set(dirname(file), [...(byDirectory.get(dirname(file)) ?? []), basename(file)]);
      for (const [directory, names] of byDirectory) watchDirectory(directory, names);
    },
    close() {
      for (const w of watchers) w.close();
      clearTimeout(timer);
    },
  };
}

/**
 * Hot reload (README, Hot reload): re-read the config file on SIGHUP or when
 * its directory changes (the file itself or the kubelet's `..data` swap), and
 * swap in a new generation when the file is valid and its content changed. A
 * content rejected once is not logged again until it changes. An invalid file, or one that fails to build, keeps
 * the last good config; reloads are serialized and never reject.
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { AuthHooks } from '../auth/types.js';
import { readConfigFile } from '../config/load.js';
import { formatConfigIssue } from '../errors.js';
import { createPlanner, type Planner } from '../policy/plan.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { buildGeneration, createGenerationVerifier, restartRequiredChanges, retireVerifier, upstreamChanged, type Generation } from './generation.js';

export type ReloadResult = 'applied' | 'unchanged' | 'invalid';

/** File-change events come in bursts (a ConfigMap update is several renames); one reload per burst. */
export const RELOAD_DEBOUNCE_MS = 200;

export interface ReloadDeps {
  readonly current: () => Generation;
  /** Install the new generation (and apply what a running listener can change). */
  readonly install: (next: Generation) => void;
  readonly draining: () => boolean;
  readonly maxHeaderCount: number;
  readonly authHooks: AuthHooks;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface Reloader {
  reload(trigger: string): Promise<ReloadResult>;
  /** Reload when the config file's directory changes. */
  watch(file: string): void;
  close(): void;
}

/** A change event's file name is the config file or the kubelet's `..data` symlink (null: the platform did not say). */
export function concernsConfig(changed: string | Buffer | null, configName: string): boolean {
  if (changed === null) return true;
  const n = changed.toString();
  return n === configName || n === KUBELET_DATA_LINK;
}

/** The symlink a Kubernetes ConfigMap or Secret mount swaps atomically on every update. */
const KUBELET_DATA_LINK = '..data';

/** sha256 of the file's bytes, or of the read error (a missing file is one content too). */
function contentHash(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

export function createReloader(deps: ReloadDeps): Reloader {
  const { metrics, logger } = deps;
  let reloading: Promise<ReloadResult> = Promise.resolve('unchanged');
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** sha256 of the last content rejected as invalid. */
  let lastRejectedHash: string | undefined;

  function rejected(trigger: string, error: unknown, message: string): ReloadResult {
    metrics.configReload('failure');
    logger.error({ err: error, trigger }, message);
    return 'invalid';
  }

  async function applyReload(trigger: string): Promise<ReloadResult> {
    const current = deps.current();
    const file = current.config.source.file;
    const { config: next, issues } = readConfigFile(file);
    if (next === undefined) {
      // A file left invalid is reported once per content; SIGHUP, an explicit request, always answers.
      const hash = contentHash(file);
      if (trigger !== 'SIGHUP' && hash === lastRejectedHash) return 'invalid';
      lastRejectedHash = hash;
      metrics.configReload('failure');
      logger.error({ trigger, config: file, errors: issues.filter((i) => i.severity === 'error').map(formatConfigIssue) }, 'config reload rejected; still serving the last good config');
      return 'invalid';
    }
    lastRejectedHash = undefined;
    if (next.source.hash === current.config.source.hash) return 'unchanged';
    for (const issue of issues) logger.warn({ config: file, warning: formatConfigIssue(issue) }, 'config warning');
    const restartOnly = restartRequiredChanges(current.config, next);
    if (restartOnly.length > 0) logger.warn({ settings: restartOnly }, 'these settings change only on restart; keeping the running values');

    const verifier = createGenerationVerifier(next, deps.authHooks, current.verifier);
    let planner: Planner;
    try {
      const replayCache = current.planner.dpop?.replayCache;
      planner = createPlanner(next, verifier, { maxHeaderCount: deps.maxHeaderCount, ...(replayCache === undefined ? {} : { replayCache }) });
    } catch (error) {
      // The loader validated the routes, so this is a bug; keep the old config rather than serve none.
      await retireVerifier(verifier);
      return rejected(trigger, error, 'config reload failed to compile; still serving the last good config');
    }
    // New issuers' keys are fetched before the swap, so their first tokens do not wait on a fetch.
    // A new issuer whose JWKS is down still swaps in (the config is valid): /readyz then says
    // 503 and its tokens get 503, exactly as at startup, until its keys load.
    await verifier.start();
    if (deps.draining()) {
      // A drain began while keys loaded: the old generation is being closed; do not install a new one.
      await retireVerifier(verifier);
      return 'unchanged';
    }
    const changed = upstreamChanged(current.config, next);
    deps.install(buildGeneration(next, verifier, { maxHeaderCount: deps.maxHeaderCount, previous: current, planner }));
    metrics.setConfigHash(next.source.hash);
    metrics.configReload('success');
    logger.info({ trigger, config: file, config_sha256: next.source.hash, routes: next.routes.length, upstream_changed: changed }, 'config reloaded');
    // The old generation's in-flight requests still hold it: close() on the old pool lets them finish.
    await retireVerifier(current.verifier);
    // Requests of the old generation may still be deciding (awaiting a key fetch) and dispatch
    // later: keep its pool open for one drain period, then close it (close() lets in-flight finish).
    if (changed) setTimeout(() => void current.forwarder.close(), current.config.limits.drainTimeoutMs).unref();
    return 'applied';
  }

  function reload(trigger: string): Promise<ReloadResult> {
    // Serialize: a reload that starts while another runs reads the file after it. Never
    // rejects: a failure keeps the last good config, like an invalid file does.
    reloading = reloading
      .then(() => (deps.draining() ? 'unchanged' : applyReload(trigger)))
      .catch((error: unknown) => rejected(trigger, error, 'config reload failed; still serving the last good config'));
    return reloading;
  }

  // Kubernetes updates a ConfigMap mount by swapping a `..data` symlink in the
  // directory, so watch the directory (not the file, whose inode never changes
  // under a symlink swap), debounce the burst, and let the content hash decide.
  function watchFile(file: string): void {
    const name = basename(file);
    try {
      watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        // Only the file itself or the kubelet's `..data` swap: a log file or an editor's swap
        // file written in the same directory is not a reason to re-read the config.
        if (!concernsConfig(changed, name)) return;
        clearTimeout(timer);
        timer = setTimeout(() => void reload('file change'), RELOAD_DEBOUNCE_MS);
        timer.unref();
      });
      watcher.on('error', (error) => logger.warn({ err: error, config: file }, 'config watch failed; SIGHUP still reloads'));
      logger.info({ directory: dirname(file), file: basename(file) }, 'watching config for changes');
    } catch (error) {
      logger.warn({ err: error, config: file }, 'cannot watch the config directory; SIGHUP still reloads');
    }
  }

  return {
    reload,
    watch: watchFile,
    close() {
      watcher?.close();
      clearTimeout(timer);
    },
  };
}

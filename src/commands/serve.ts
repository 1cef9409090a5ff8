/** `scopegate serve [--config FILE | FILE]`: run the sidecar until drained by a signal. */
import cluster from 'node:cluster';
import { ClientSecretError } from '../auth/introspect-verifier.js';
import { resolveWorkers } from '../server/cpu-count.js';
import { configPath, EXIT_FAILED, EXIT_USAGE, loadOrReport, type CommandIo } from './io.js';
import { fileArgument, parseCommon } from './usage.js';

/** Resolves with the exit code once a drain completes (0), or 1 when the config is invalid. */
export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const err = io.stderr ?? process.stderr;
  const named = fileArgument(parseCommon(argv), err);
  if (named === undefined) return EXIT_USAGE;
  const config = loadOrReport(configPath(named.file), err);
  if (config === undefined) return EXIT_FAILED;
  // Loaded only to serve: check and explain never pay for the server's modules (nor a primary for the data plane's).
  const { ListenError } = await import('../server/lifecycle.js');
  const { TlsStartError } = await import('../server/tls.js');
  // `workers: N > 1`: this process becomes the primary (server/cluster.ts) and each worker runs this command again.
  const workers = cluster.isWorker ? 1 : resolveWorkers(config.workers);
  let done: Promise<number>;
  try {
    if (workers > 1) done = (await (await import('../server/cluster.js')).startPrimary(config, workers)).done;
    else {
      const { startScopegate } = await import('../server.js');
      const running = await startScopegate(config, { installSignalHandlers: true, watchConfig: true, worker: cluster.isWorker });
      if (cluster.isWorker) (await import('../server/cluster-worker.js')).reportToPrimary(running);
      done = running.done;
    }
  } catch (error) {
    // A port taken, or an introspection secret missing, is an operator's problem, not a bug:
    // one line naming the setting (and file or variable), no stack.
    if (!(error instanceof ListenError) && !(error instanceof ClientSecretError) && !(error instanceof TlsStartError)) throw error;
    err.write(`scopegate: ${error.message}\n`);
    exitSoon(EXIT_FAILED);
    return EXIT_FAILED;
  }
  const code = await done;
  exitSoon(code);
  return code;
}

/**
 * After a drain the process should end, but a log output whose reader stalled
 * keeps retrying its write (a timer every 100 ms) and with it the process
 * alive. Give the output this long to finish, then exit; process.exit() flushes
 * what is left within the output's own bound (telemetry/log-output.ts).
 */
const EXIT_AFTER_DRAIN_MS = 1000;

function exitSoon(code: number): void {
  // unref: a process with nothing left to do exits at once, without waiting for this.
  setTimeout(() => process.exit(code), EXIT_AFTER_DRAIN_MS).unref();
}

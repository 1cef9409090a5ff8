/** `scopegate serve [--config FILE | FILE]`: run the sidecar until drained by a signal. */
import { ClientSecretError } from '../auth/introspect-verifier.js';
import { configPath, EXIT_FAILED, EXIT_USAGE, loadOrReport, type CommandIo } from './io.js';
import { fileArgument, parseCommon } from './usage.js';

/** Resolves with the exit code once a drain completes (0), or 1 when the config is invalid. */
export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const err = io.stderr ?? process.stderr;
  const named = fileArgument(parseCommon(argv), err);
  if (named === undefined) return EXIT_USAGE;
  const config = loadOrReport(configPath(named.file), err);
  if (config === undefined) return EXIT_FAILED;
  // Loaded only to serve: check and explain never pay for the server's modules.
  const { startScopegate } = await import('../server.js');
  try {
    const running = await startScopegate(config, { installSignalHandlers: true, watchConfig: true });
    return await running.done;
  } catch (error) {
    // A config that loads but whose introspection secret is missing: say which file or variable, not a stack.
    if (!(error instanceof ClientSecretError)) throw error;
    err.write(`scopegate: ${error.message}\n`);
    return EXIT_FAILED;
  }
}

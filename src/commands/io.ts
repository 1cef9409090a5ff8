import { readConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { formatConfigIssue } from '../errors.js';

/** What a command reads and writes, so tests can run one in-process and read its output. */
export interface Output {
  write(s: string): unknown;
}

export interface CommandIo {
  readonly stdout?: Output;
  readonly stderr?: Output;
  /** Read for `--token -`; default process.stdin. */
  readonly readStdin?: () => string;
}

/** A command: argv is everything after the command word; resolves with the process exit code. */
export type Command = (argv: readonly string[], io?: CommandIo) => Promise<number>;

/** Exit codes every command uses (explain: 1 means denied). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The config file when no flag names one. */
export const DEFAULT_CONFIG_PATH = 'config/scopegate.yaml';

/** --config, else $SCOPEGATE_CONFIG, else the default. An empty variable (`SCOPEGATE_CONFIG=` in a manifest) means unset. */
export function configPath(flag: string | undefined): string {
  const fromEnv = process.env['SCOPEGATE_CONFIG'];
  return flag ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_CONFIG_PATH : fromEnv);
}

/** Loads the config, printing every issue (warnings too); undefined when it is invalid. */
export function loadOrReport(file: string, err: Output): Config | undefined {
  const { config, issues } = readConfigFile(file);
  for (const issue of issues) err.write(`${formatConfigIssue(issue)}\n`);
  return config;
}

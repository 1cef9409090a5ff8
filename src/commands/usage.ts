/**
 * The top-level usage text and the option set serve, check, demo and import
 * share (explain parses its own). Kept apart from cli.ts so commands can print
 * the usage without importing the entry point.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PATH, EXIT_USAGE, type Output } from './io.js';

export const USAGE = `scopegate — OAuth 2.0 scope enforcement sidecar

Usage:
  scopegate serve [--config FILE | FILE]   run the sidecar (proxy on listen, /healthz /readyz /metrics on admin_listen)
  scopegate check [--config FILE | FILE] [--online]
                                    validate a config and print the compiled route table; --online also
                                    compares each issuer with what its IdP publishes (JWKS, metadata)
  scopegate demo  [--config FILE | FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT]
                                    run a self-contained demo: a local issuer, an echo upstream and the sidecar
  scopegate explain [--config FILE] METHOD PATH [--token JWT | --scopes "a b"]
                                    trace one request: canonical path, route match, requirement, token, the exact response
  scopegate import openapi SPEC [--out FILE [--force]] [--merge FILE]
                                    build a config (routes + scope catalogue) from an OpenAPI 3.x document;
                                    --out never replaces a file without --force; --merge adds new operations to FILE
  scopegate status [--admin URL] [--config FILE]
                                    print a running sidecar's admin page: config, routes, scopes, issuers' keys, recent denials
  scopegate --help | --version

The config file defaults to $SCOPEGATE_CONFIG, else ${DEFAULT_CONFIG_PATH}.
Exit codes: 0 ok, 1 invalid config or start failure, 2 usage error.
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  listen: { type: 'string' },
  'admin-listen': { type: 'string' },
  out: { type: 'string', short: 'o' },
  // check only: compare the config with what its IdPs publish (network).
  online: { type: 'boolean' },
  force: { type: 'boolean' },
  merge: { type: 'string' },
  admin: { type: 'string' },
} as const;

export type CommonArgs = ReturnType<typeof parseCommon>;

/** Throws on an unknown option or a missing value (parseArgs' message says which). */
export function parseCommon(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, tokens: true, options: OPTIONS });
}

/** The usage error every command prints: the message, a blank line, the usage. */
export function usageError(err: Output, message: string): number {
  err.write(`${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

/**
 * `scopegate check FILE` reads as naturally as `--config FILE`; both are accepted,
 * not both at once. The file named, or undefined after a usage error was printed.
 */
export function fileArgument(args: CommonArgs, err: Output): { readonly file: string | undefined } | undefined {
  const { positionals, values } = args;
  if (positionals.length > 1 || (positionals.length === 1 && values.config !== undefined)) {
    usageError(err, `unexpected argument: ${positionals[positionals.length - 1]}`);
    return undefined;
  }
  return { file: values.config ?? positionals[0] };
}

#!/usr/bin/env node
/**
 * scopegate command line: argv → serve | check | demo.
 * Exit codes: 0 ok, 1 invalid config or failed start, 2 usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatConfigIssue } from './errors.js';
import { parseListen, readConfigFile } from './config/load.js';
import { formatRouteTable } from './check.js';
import type { Config, ListenAddress } from './config/schema.js';

const DEFAULT_CONFIG_PATH = 'config/scopegate.yaml';

const USAGE = `scopegate — OAuth 2.0 scope enforcement sidecar

Usage:
  scopegate serve [--config FILE | FILE]   run the sidecar (proxy on listen, /healthz /readyz /metrics on admin_listen)
  scopegate check [--config FILE | FILE]   validate a config and print the compiled route table
  scopegate demo  [--config FILE | FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT]
                                    run a self-contained demo: a local issuer, an echo upstream and the sidecar
  scopegate explain [--config FILE] METHOD PATH [--token JWT | --scopes "a b"]
                                    trace one request: canonical path, route match, requirement, token, the exact response
  scopegate import openapi SPEC [--out FILE]
                                    build a config (routes + scope catalogue) from an OpenAPI 3.x document
  scopegate --help | --version

The config file defaults to $SCOPEGATE_CONFIG, else ${DEFAULT_CONFIG_PATH}.
Exit codes: 0 ok, 1 invalid config or start failure, 2 usage error.
`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function configPath(flag: string | undefined): string {
  // An empty variable (`SCOPEGATE_CONFIG=` in a manifest) means unset, not a file named "".
  const fromEnv = process.env['SCOPEGATE_CONFIG'];
  return flag ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_CONFIG_PATH : fromEnv);
}

/** Loads or prints every issue and returns undefined. Warnings are printed either way. */
function loadOrReport(file: string): Config | undefined {
  const { config, issues } = readConfigFile(file);
  for (const issue of issues) process.stderr.write(`${formatConfigIssue(issue)}\n`);
  return config;
}

/** `scopegate import openapi SPEC [--out FILE]`: the config goes to FILE or stdout, warnings to stderr. */
async function runImport(args: string[], out: string | undefined): Promise<number> {
  if (args[0] !== 'openapi' || args.length !== 2) {
    process.stderr.write(`usage: scopegate import openapi SPEC [--out FILE]\n`);
    return 2;
  }
  const spec = args[1] as string;
  const { importOpenApi, OpenApiImportError } = await import('./openapi/import.js');
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (error) {
    process.stderr.write(`${spec}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
    return 1;
  }
  try {
    const result = importOpenApi(text, basename(spec));
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    if (out === undefined) process.stdout.write(result.yaml);
    else writeFileSync(out, result.yaml);
    process.stderr.write(`${spec}: ${result.routes} routes, ${result.scopes} scopes${out === undefined ? '' : ` → ${out}`}; fill in auth.issuers, then run scopegate check\n`);
    return 0;
  } catch (error) {
    if (error instanceof OpenApiImportError) {
      process.stderr.write(`${spec}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  // explain has its own options (--token, --scopes) and two positionals: its module parses them.
  if (argv[0] === 'explain') {
    const { run } = await import('./commands/explain.js');
    return run(argv.slice(1));
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        listen: { type: 'string' },
        'admin-listen': { type: 'string' },
        out: { type: 'string', short: 'o' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version === true) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return values.help === true || command === 'help' ? 0 : 2;
  }
  if (command === 'import') return runImport(positionals.slice(1), values.out);
  if (positionals.length > 2 || (positionals.length === 2 && values.config !== undefined)) {
    process.stderr.write(`unexpected argument: ${positionals[positionals.length - 1]}\n\n${USAGE}`);
    return 2;
  }
  // `scopegate check FILE` reads as naturally as `--config FILE`; both are accepted.
  const file = configPath(values.config ?? positionals[1]);

  switch (command) {
    case 'check': {
      const config = loadOrReport(file);
      if (config === undefined) {
        process.stderr.write(`${file}: invalid, not loaded\n`);
        return 1;
      }
      process.stdout.write(`${formatRouteTable(config)}\n`);
      process.stdout.write(`${file}: ok, ${config.routes.length} routes, ${config.auth.issuers.length} issuer(s), config sha256 ${config.source.hash.slice(0, 12)}\n`);
      return 0;
    }
    case 'serve': {
      const config = loadOrReport(file);
      if (config === undefined) return 1;
      const { runServe } = await import('./server.js');
      return runServe(config);
    }
    case 'demo': {
      const config = loadOrReport(file);
      if (config === undefined) return 1;
      const ports: { listen?: ListenAddress; adminListen?: ListenAddress } = {};
      for (const [flag, key] of [['listen', 'listen'], ['admin-listen', 'adminListen']] as const) {
        const text = values[flag];
        if (text === undefined) continue;
        const address = parseListen(text);
        if (address === undefined) {
          process.stderr.write(`--${flag}: must be host:port or a port, got ${JSON.stringify(text)}\n`);
          return 2;
        }
        ports[key] = address;
      }
      const { runDemo } = await import('./demo.js');
      return runDemo(config, ports);
    }
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve and demo keep the process alive themselves and resolve only when done.
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`scopegate: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exitCode = 1;
  },
);

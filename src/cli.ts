#!/usr/bin/env node
/**
 * scopegate command line: argv → one of the commands below.
 * Exit codes: 0 ok, 1 invalid config or failed start (explain: denied), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command } from './commands/io.js';
import { parseCommon, usageError, USAGE } from './commands/usage.js';

/** Each command is loaded only when run: `check` never pays for the server, nor `serve` for the importer. */
const COMMANDS: Readonly<Record<string, () => Promise<{ run: Command }>>> = {
  serve: () => import('./commands/serve.js'),
  check: () => import('./commands/check.js'),
  demo: () => import('./commands/demo.js'),
  import: () => import('./commands/import.js'),
  explain: () => import('./commands/explain.js'),
  status: () => import('./commands/status.js'),
};

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  // explain has its own options (--token, --scopes) and two positionals: its module parses them.
  if (argv[0] === 'explain') return (await COMMANDS['explain']!()).run(argv.slice(1));
  let parsed;
  try {
    parsed = parseCommon(argv);
  } catch (error) {
    return usageError(process.stderr, (error as Error).message);
  }
  const { values, positionals, tokens } = parsed;
  if (values.version === true) {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const command = positionals[0];
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return values.help === true || command === 'help' ? EXIT_OK : EXIT_USAGE;
  }
  const load = Object.hasOwn(COMMANDS, command) && command !== 'explain' ? COMMANDS[command] : undefined;
  if (load === undefined) {
    if (positionals.length > 2 || (positionals.length === 2 && values.config !== undefined)) {
      return usageError(process.stderr, `unexpected argument: ${positionals[positionals.length - 1]}`);
    }
    return usageError(process.stderr, `unknown command: ${command}`);
  }
  // The command sees argv without its own name, wherever the name stood among the options.
  const at = tokens.find((token) => token.kind === 'positional')?.index ?? 0;
  return (await load()).run([...argv.slice(0, at), ...argv.slice(at + 1)]);
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
    process.exitCode = EXIT_FAILED;
  },
);

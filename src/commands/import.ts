/** `scopegate import openapi SPEC [--out FILE]`: the config goes to FILE or stdout, warnings to stderr. */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.js';
import { parseCommon } from './usage.js';

export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const { positionals: args, values } = parseCommon(argv);
  if (args[0] !== 'openapi' || args.length !== 2) {
    err.write(`usage: scopegate import openapi SPEC [--out FILE]\n`);
    return EXIT_USAGE;
  }
  const spec = args[1] as string;
  const target = values.out;
  const { importOpenApi, OpenApiImportError } = await import('../openapi/import.js');
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (error) {
    err.write(`${spec}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
    return EXIT_FAILED;
  }
  try {
    const result = importOpenApi(text, basename(spec));
    for (const warning of result.warnings) err.write(`warning: ${warning}\n`);
    if (target === undefined) out.write(result.yaml);
    else writeFileSync(target, result.yaml);
    err.write(`${spec}: ${result.routes} routes, ${result.scopes} scopes${target === undefined ? '' : ` → ${target}`}; fill in auth.issuers, then run scopegate check\n`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof OpenApiImportError) {
      err.write(`${spec}: ${error.message}\n`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

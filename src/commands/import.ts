/**
 * `scopegate import openapi SPEC [--out FILE [--force]] [--merge FILE]`: the config
 * goes to FILE or stdout, warnings to stderr. `--out` never replaces an existing
 * file (it may hold hand edits) unless `--force`; `--merge FILE` adds the spec's
 * new operations to FILE in place and reports the removed and changed ones
 * (src/openapi/merge.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ImportResult } from '../openapi/import.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CommandIo, type Output } from './io.js';
import { parseCommon } from './usage.js';

const USAGE = 'usage: scopegate import openapi SPEC [--out FILE [--force]] [--merge FILE]\n';

/** The schema this scopegate ships (package.json "files" has config/), from src/commands or dist/commands. */
const SCHEMA = fileURLToPath(new URL('../../config/scopegate.schema.json', import.meta.url));

/**
 * The `$schema` of the yaml-language-server modeline: editors resolve a relative path
 * against the YAML file's directory, so it is the path from the written file (stdout:
 * the working directory) to the installed schema.
 */
export function schemaRefFor(outFile: string | undefined): string {
  const rel = relative(outFile === undefined ? process.cwd() : dirname(resolve(outFile)), SCHEMA);
  if (isAbsolute(rel)) return pathToFileURL(SCHEMA).href; // another drive: no relative path exists
  const posix = rel.split(sep).join('/');
  return posix.startsWith('../') ? posix : `./${posix}`;
}

/** Writes `text` to `file`; without `force` an existing file is refused (exclusive create, no check-then-write race). */
function writeNew(file: string, text: string, force: boolean, err: Output): boolean {
  try {
    writeFileSync(file, text, { flag: force ? 'w' : 'wx' });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      err.write(`${file} exists: not overwritten (it may hold hand edits). Use --merge ${file} to add the spec's new operations to it, or --force to replace it.\n`);
    } else {
      err.write(`${file}: cannot write (${code ?? String(error)})\n`);
    }
    return false;
  }
}

export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const { positionals: args, values } = parseCommon(argv);
  if (args[0] !== 'openapi' || args.length !== 2 || (values.force === true && values.out === undefined)) {
    err.write(USAGE);
    return EXIT_USAGE;
  }
  const spec = args[1] as string;
  // Refused before any work (writeNew still creates exclusively, so a file appearing meanwhile is not replaced).
  if (values.out !== undefined && values.force !== true && existsSync(values.out)) return writeNew(values.out, '', false, err) ? EXIT_OK : EXIT_FAILED;
  const { importOpenApi, OpenApiImportError } = await import('../openapi/import.js');
  const text = readText(spec, err);
  if (text === undefined) return EXIT_FAILED;
  try {
    const target = values.out ?? values.merge;
    const result = importOpenApi(text, basename(spec), { schemaRef: schemaRefFor(target) });
    for (const warning of result.warnings) err.write(`warning: ${warning}\n`);
    if (values.merge !== undefined) return await merge(spec, values.merge, values.out, values.force === true, result, err);
    if (values.out === undefined) out.write(result.yaml);
    else if (!writeNew(values.out, result.yaml, values.force === true, err)) return EXIT_FAILED;
    err.write(`${spec}: ${result.routes} routes, ${result.scopes} scopes${values.out === undefined ? '' : ` → ${values.out}`}; fill in auth.issuers, then run scopegate check\n`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof OpenApiImportError) {
      // A merge error names the config file itself; an import error is the spec's.
      err.write(values.merge !== undefined && error.message.startsWith(`${values.merge}: `) ? `${error.message}\n` : `${spec}: ${error.message}\n`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

function readText(file: string, err: Output): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    err.write(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
    return undefined;
  }
}

/** --merge FILE: FILE is rewritten in place only when something is added (--out: written there instead). */
async function merge(spec: string, file: string, outFile: string | undefined, force: boolean, result: ImportResult, err: Output): Promise<number> {
  const { mergeImport } = await import('../openapi/merge.js');
  const source = readText(file, err);
  if (source === undefined) return EXIT_FAILED;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const merged = mergeImport(source, file, result, `added by scopegate import openapi --merge from ${basename(spec)} on ${now}`);
  for (const key of merged.added) err.write(`added: ${key}\n`);
  for (const name of merged.addedScopes) err.write(`added scope: ${name}\n`);
  for (const line of merged.removed) err.write(`removed: ${line}\n`);
  for (const line of merged.changed) err.write(`changed: ${line}\n`);
  const target = outFile ?? file;
  if (outFile !== undefined) {
    if (!writeNew(outFile, merged.text, force, err)) return EXIT_FAILED;
  } else if (merged.text !== source) {
    writeFileSync(file, merged.text);
  }
  err.write(`${spec} → ${target}: ${merged.added.length} added, ${merged.removed.length} removed (kept), ${merged.changed.length} changed (the config's kept); run scopegate check\n`);
  return EXIT_OK;
}

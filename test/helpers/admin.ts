/**
 * The admin page's data for tests: `/status` read and checked against the
 * schema shipped in docs/, and `scopegate status` run as the real CLI process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { StatusDocument } from '../../src/admin/status.js';
import { CLI } from './sidecar.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../docs/status.schema.json', import.meta.url), 'utf8')) as object;

const ajv = new Ajv2020({ allErrors: true, strict: true });
// RFC 3339 date-time as /status writes it (Date.toISOString), without pulling in ajv-formats.
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/);
const validate = ajv.compile(SCHEMA);

/** The schema's errors for `doc`, as readable lines ([] when valid). */
export function statusSchemaErrors(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** GET /status, its raw text and the parsed document. */
export async function readStatus(adminUrl: string): Promise<{ text: string; doc: StatusDocument }> {
  const res = await fetch(`${adminUrl}/status`);
  if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
  const text = await res.text();
  return { text, doc: JSON.parse(text) as StatusDocument };
}

/** `scopegate status --admin URL` as a separate process: stdout, stderr and the exit code. */
export async function statusCli(adminUrl: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'status', '--admin', adminUrl], { timeout: 15_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
  }
}

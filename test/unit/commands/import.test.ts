/**
 * `scopegate import openapi`, run in-process on real files in a temporary
 * directory: the warnings for writes that need no scope, --out refusing to
 * replace a file without --force, the yaml-language-server modeline, and
 * --merge of a spec changed three ways into a config edited by hand.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { parse } from 'yaml';
import { run } from '../../../src/commands/import.js';
import { loadConfigText } from '../../../src/config/load.js';
import { formatConfigIssue } from '../../../src/errors.js';

const SCHEMA = fileURLToPath(new URL('../../../config/scopegate.schema.json', import.meta.url));

const FLOWS = (extra: Record<string, string> = {}) => ({
  oauth: {
    type: 'oauth2',
    flows: { clientCredentials: { tokenUrl: 'https://login.example.net/token', scopes: { 'pets:read': 'read pets', 'pets:write': 'change pets', admin: 'administer', ...extra } } },
  },
});
const op = (security: unknown) => ({ security, responses: { '200': { description: 'OK' } } });
const spec = (paths: Record<string, unknown>, extraScopes?: Record<string, string>) =>
  JSON.stringify({ openapi: '3.0.3', info: { title: 'Pets', version: '1' }, components: { securitySchemes: FLOWS(extraScopes) }, paths });

const V1 = spec({
  '/pets': { get: op([{ oauth: ['pets:read'] }]), post: op([{ oauth: ['pets:write'] }]) },
  '/pets/{id}': { get: op([{ oauth: ['pets:read'] }]), delete: op([{ oauth: ['pets:write'] }]) },
  '/hooks': { post: op([]) },
});
// Changed three ways: DELETE /pets/{id} removed, GET /pets/{id} now needs admin, POST /pets/{id}/photos added (with a new scope).
const V2 = spec(
  {
    '/pets': { get: op([{ oauth: ['pets:read'] }]), post: op([{ oauth: ['pets:write'] }]) },
    '/pets/{petId}': { get: op([{ oauth: ['admin'] }]) },
    '/pets/{petId}/photos': { post: op([{ oauth: ['photos:write'] }]) },
    '/hooks': { post: op([]) },
  },
  { 'photos:write': 'upload photos' },
);

function sink(): { write(s: string): boolean; text: () => string } {
  let buf = '';
  return { write: (s: string) => ((buf += s), true), text: () => buf };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await run(['openapi', ...args], { stdout: out, stderr: err });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A temporary directory holding the specs v1.json and v2.json, removed after the test. */
function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-import-cmd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'v1.json'), V1);
  writeFileSync(join(dir, 'v2.json'), V2);
  return dir;
}

function loads(text: string): { errors: string[]; warnings: string[] } {
  const { issues } = loadConfigText(text, 'c.yaml');
  return { errors: issues.filter((i) => i.severity === 'error').map(formatConfigIssue), warnings: issues.filter((i) => i.severity === 'warning').map(formatConfigIssue) };
}

t.test('a write that needs no scope: a WARNING comment above the route, a warning on stderr, and one from check', async (t) => {
  const dir = tempDir(t);
  const r = await cli([join(dir, 'v1.json')]);
  t.equal(r.code, 0);
  t.match(r.stdout, /# WARNING: POST needs no scope: with \{ auth: none \} anyone, without a token, can change data; require a write scope unless that is intended\n {2}POST \/hooks: \{ auth: none \}/);
  t.equal(r.stdout.match(/# WARNING:/g)?.length, 1, 'only the unscoped write: POST /pets and DELETE /pets/{id} have scopes');
  t.match(r.stderr, /^warning: write operations that need no scope \(\{ auth: none \}: anyone can change data\): POST \/hooks$/m);
  const { errors, warnings } = loads(r.stdout);
  t.same(errors, []);
  t.same(warnings.filter((w) => w.includes('needs no scope')), [
    `c.yaml:${r.stdout.split('\n').findIndex((l) => l.startsWith('  POST /hooks')) + 1}:3: warning: routes."POST /hooks": POST needs no scope: with { auth: none } anyone, without a token, can change data; require a write scope unless that is intended`,
  ]);
});

t.test('the first line names the schema for editors, as a path from the written file', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'nested', 'scopegate.yaml');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dirname(out));
  t.equal((await cli([join(dir, 'v1.json'), '--out', out])).code, 0);
  const first = readFileSync(out, 'utf8').split('\n')[0] as string;
  const m = /^# yaml-language-server: \$schema=(\.{1,2}\/\S+)$/.exec(first);
  t.ok(m, `modeline with a relative path: ${first}`);
  t.equal(resolve(dirname(out), m?.[1] ?? ''), SCHEMA, 'resolved against the file, it is the schema this scopegate ships');
  t.ok(existsSync(SCHEMA));
});

t.test('--out never replaces an existing file without --force', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'scopegate.yaml');
  const handEdited = '# mine, edited by hand\nversion: 1\n';
  writeFileSync(out, handEdited);

  const refused = await cli([join(dir, 'v1.json'), '--out', out]);
  t.equal(refused.code, 1);
  t.equal(refused.stderr, `${out} exists: not overwritten (it may hold hand edits). Use --merge ${out} to add the spec's new operations to it, or --force to replace it.\n`);
  t.equal(readFileSync(out, 'utf8'), handEdited, 'untouched');

  const forced = await cli([join(dir, 'v1.json'), '--out', out, '--force']);
  t.equal(forced.code, 0);
  t.match(readFileSync(out, 'utf8'), /^# yaml-language-server: /, 'replaced with the import');

  const fresh = join(dir, 'new.yaml');
  t.equal((await cli([join(dir, 'v1.json'), '--out', fresh])).code, 0, 'a new file needs no --force');
  t.equal((await cli([join(dir, 'v1.json'), '--force'])).code, 2, '--force without --out is a usage error');
});

/** A v1 import, then edited as people do: comments, an aligned trailing comment, a widened route, a hand route, flow spacing. */
function handEdit(imported: string): string {
  const edited = imported
    .replace('version: 1\n', 'version: 1\n# Owned by the pets team: ask #pets before changing routes.\n')
    .replace(/ {2}GET \/pets: pets:read\n/, '  GET /pets: { any_of: [pets:read, admin] }      # widened by hand for the admin UI\n')
    .replace('audiences: [ https://api.example.com ]', 'audiences: [https://pets.example.com]')
    .replace(/(\nscopes:\n)/, '$1  # the catalogue: keep descriptions short\n');
  return `${edited}  GET /healthz: { auth: none }          # probes, not in the spec\n  # DELETE /pets: { all_of: [pets:write, admin] }   (disabled)\n`;
}

t.test('--merge: added, removed and changed operations; every hand edit and comment survives byte for byte', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'scopegate.yaml');
  t.equal((await cli([join(dir, 'v1.json'), '--out', file])).code, 0);
  const before = handEdit(readFileSync(file, 'utf8'));
  t.not(before, readFileSync(file, 'utf8'), 'the hand edits applied');
  t.same(loads(before).errors, [], 'the hand-edited config is valid');
  writeFileSync(file, before);

  const r = await cli([join(dir, 'v2.json'), '--merge', file]);
  t.equal(r.code, 0, r.stderr);
  const after = readFileSync(file, 'utf8');

  // Only insertions: removing the inserted blocks gives back the hand-edited file exactly.
  const routeBlock = /\n( {2}# added by scopegate import openapi --merge from v2\.json on [^\n]+\n {2}POST \/pets\/:petId\/photos: photos:write\n)/.exec(after);
  const scopeBlock = /\n( {2}photos:write:\n {4}description: upload photos\n)/.exec(after);
  t.ok(routeBlock, 'the new route, with a comment saying where it came from');
  t.ok(scopeBlock, 'the scope it needs, added to the catalogue');
  t.equal(after.replace(routeBlock?.[1] ?? '', '').replace(scopeBlock?.[1] ?? '', ''), before, 'everything else byte for byte');
  t.match(after, /# probes, not in the spec\n {2}# added by scopegate[^\n]+\n[^\n]+\n {2}# DELETE \/pets: /, 'inserted after the last route; a comment below it stays below');

  t.match(r.stderr, /^added: POST \/pets\/:petId\/photos$/m);
  t.match(r.stderr, /^added scope: photos:write$/m);
  t.match(r.stderr, /^removed: [^\n]*scopegate\.yaml:\d+ "DELETE \/pets\/:id": DELETE not in the spec \(kept; delete it if the API no longer serves it\)$/m);
  t.match(r.stderr, /^removed: [^\n]*"GET \/healthz": GET not in the spec/m, 'a hand-added route is reported, and kept');
  t.match(r.stderr, /^changed: GET \/pets\/:petId: the spec requires admin; [^\n]*"GET \/pets\/:id" has pets:read \(kept\)$/m);
  t.match(r.stderr, /^changed: GET \/pets: the spec requires pets:read; [^\n]*"GET \/pets" has \{ any_of: \[admin, pets:read\] \} \(kept\)$/m, 'the hand edit is reported, not undone');
  t.match(r.stderr, /1 added, 2 removed \(kept\), 2 changed \(the config's kept\)/);

  const { errors } = loads(after);
  t.same(errors, [], 'the merged config is valid');
  const routes = (parse(after) as { routes: Record<string, unknown> }).routes;
  t.same(routes['GET /pets'], { any_of: ['pets:read', 'admin'] }, 'hand edit kept');
  t.equal(routes['GET /pets/:id'], 'pets:read', 'changed in the spec: the config keeps its own');
  t.equal(routes['DELETE /pets/:id'], 'pets:write', 'removed from the spec: kept');

  const again = await cli([join(dir, 'v2.json'), '--merge', file]);
  t.equal(again.code, 0);
  t.equal(readFileSync(file, 'utf8'), after, 'merging the same spec again changes nothing');
  t.match(again.stderr, /0 added/);
});

t.test('--merge refuses what it cannot add to without rewriting, and leaves the file alone', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'flow.yaml');
  const flow = 'upstream: { url: "http://127.0.0.1:3000" }\nroutes: { GET /pets: pets:read }\n';
  writeFileSync(file, flow);
  const r = await cli([join(dir, 'v2.json'), '--merge', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, /flow\.yaml: "routes:" is not a block mapping with entries: add to it by hand\n$/);
  t.equal(readFileSync(file, 'utf8'), flow);
});

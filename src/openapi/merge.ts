/**
 * `scopegate import openapi SPEC --merge FILE`: a changed spec merged into a
 * config that people have edited since it was imported.
 *
 * The config's text is never rewritten, only added to: the new operations'
 * routes are inserted after the last route (and the scopes they need after the
 * last catalogue entry), rendered by the `yaml` library as the importer renders
 * them and indented like the file's own entries. Every byte already in the file
 * (comments, aligned trailing comments, quoting, flow spacing, hand-written
 * routes) stays where it was. Re-serializing the whole document with the `yaml`
 * Document API would not do that: it re-spaces aligned comments and flow
 * collections (measured on config/scopegate.yaml: 10 lines changed).
 *
 * Operations the config already routes (same method, same path shape; parameter
 * names do not count) are compared, not touched: a different requirement is
 * reported as changed and the config's is kept, since it may be a hand edit.
 * Routes of the config that the spec no longer has are reported, and kept.
 */
import { Document, isMap, isScalar, LineCounter, parseDocument, YAMLMap, type Pair } from 'yaml';
import { HTTP_METHODS } from '../config/vocabulary.js';
import { parseTemplate, templateShape } from '../routes/template.js';
import { routePair, scopePair } from './emit.js';
import { OpenApiImportError, type ImportedRoute, type ImportResult } from './import.js';
import type { RouteRequirement } from './security.js';
import { isObject, oneLine } from './spec.js';

export interface MergeResult {
  /** The config text with the additions; equal to the input when nothing was added. */
  readonly text: string;
  /** Route keys added. */
  readonly added: readonly string[];
  /** Catalogue entries added (scopes the added routes require). */
  readonly addedScopes: readonly string[];
  /** Config routes the spec no longer has (kept), one message each. */
  readonly removed: readonly string[];
  /** Routes whose requirement in the spec differs from the config's (the config's kept), one message each. */
  readonly changed: readonly string[];
}

/** A requirement compared as a set: the order of scopes and the one-scope spellings do not matter. */
interface Normal {
  readonly kind: RouteRequirement['kind'];
  readonly scopes: readonly string[];
}

interface ConfigRoute {
  readonly key: string;
  readonly line: number;
  readonly methods: readonly string[];
  readonly anyMethod: boolean;
  readonly shape: string;
  /** undefined: not a requirement this module reads (the loader reports it). */
  readonly requirement: Normal | undefined;
  /** A route scopegate answers itself (respond: token_info): never in a spec. */
  readonly answered: boolean;
}

function normal(kind: RouteRequirement['kind'], scopes: readonly string[]): Normal {
  const set = [...new Set(scopes)].sort();
  return { kind: kind === 'any_of' && set.length === 1 ? 'all_of' : kind, scopes: set };
}

function fromSpec(r: RouteRequirement): Normal {
  return r.kind === 'all_of' || r.kind === 'any_of' ? normal(r.kind, r.scopes) : normal(r.kind, []);
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function fromConfig(value: unknown): Normal | undefined {
  if (typeof value === 'string') return normal('all_of', [value]);
  if (!isObject(value)) return undefined;
  if (typeof value.scope === 'string') return normal('all_of', [value.scope]);
  if (value.auth === 'token' || value.auth === 'none') return normal(value.auth, []);
  if (strings(value.all_of)) return normal('all_of', value.all_of);
  if (strings(value.any_of)) return normal('any_of', value.any_of);
  return undefined;
}

function describe(n: Normal | undefined): string {
  if (n === undefined) return '(unreadable)';
  if (n.kind === 'token' || n.kind === 'none') return `{ auth: ${n.kind} }`;
  return n.kind === 'all_of' && n.scopes.length === 1 ? (n.scopes[0] as string) : `{ ${n.kind}: [${n.scopes.join(', ')}] }`;
}

const same = (a: Normal, b: Normal): boolean => a.kind === b.kind && a.scopes.join(' ') === b.scopes.join(' ');

/** The config's routes as the router tells them apart; keys the loader would refuse are left to it. */
function readConfigRoutes(routes: YAMLMap, lines: LineCounter): ConfigRoute[] {
  const out: ConfigRoute[] = [];
  for (const pair of routes.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string') continue;
    const key = pair.key.value;
    const m = /^([^ ]+) +([^ ]+)$/.exec(key);
    const parsed = m === null ? undefined : parseTemplate(m[2] as string);
    if (m === null || parsed === undefined || 'error' in parsed) continue;
    const anyMethod = m[1] === '*';
    const value: unknown = isMap(pair.value) || isScalar(pair.value) ? pair.value.toJSON() : undefined;
    out.push({
      key,
      line: lines.linePos(pair.key.range?.[0] ?? 0).line,
      methods: anyMethod ? HTTP_METHODS : (m[1] as string).split(','),
      anyMethod,
      shape: templateShape(parsed),
      requirement: fromConfig(value),
      answered: isObject(value) && value.respond !== undefined,
    });
  }
  return out;
}

/** A block mapping at the top of the config, or why it cannot be added to. */
function blockMap(doc: Document, name: string): YAMLMap | string | undefined {
  const node = doc.get(name, true);
  if (node === undefined || node === null) return undefined;
  if (!isMap(node) || node.flow === true || node.items.length === 0) return `"${name}:" is not a block mapping with entries: add to it by hand`;
  return node;
}

interface Insertion {
  readonly at: number;
  readonly text: string;
}

/** The new pairs as text, indented like the map's first key, inserted after the map's last entry. */
function insertion(source: string, map: YAMLMap, pairs: readonly Pair[]): Insertion {
  const first = map.items[0]?.key as { range?: [number, number, number] } | undefined;
  const last = map.items[map.items.length - 1] as Pair;
  const start = first?.range?.[0] ?? 0;
  const indent = ' '.repeat(start - (source.lastIndexOf('\n', start - 1) + 1));
  const lastNode = (last.value ?? last.key) as { range?: [number, number, number] } | null;
  let at = lastNode?.range?.[1] ?? source.length;
  if (source[at - 1] !== '\n') {
    const eol = source.indexOf('\n', at);
    at = eol === -1 ? source.length : eol + 1;
  }
  const block = new YAMLMap();
  for (const p of pairs) block.add(p);
  const rendered = new Document(block).toString({ lineWidth: 0 });
  const body = rendered.split('\n').map((l) => (l === '' ? l : `${indent}${l}`)).join('\n');
  return { at, text: `${source[at - 1] === '\n' || at === 0 ? '' : '\n'}${body}` };
}

function shapeKey(method: string, shape: string): string {
  return `${method} ${shape}`;
}

/** Merge an import of the spec into the config text `source` (named `file` in messages). */
export function mergeImport(source: string, file: string, imported: ImportResult, addedNote: string): MergeResult {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines });
  if (doc.errors.length > 0) throw new OpenApiImportError(`${file}: not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  const routesMap = blockMap(doc, 'routes');
  if (routesMap === undefined || typeof routesMap === 'string') throw new OpenApiImportError(`${file}: ${routesMap ?? 'no "routes:" mapping'}`);

  const configRoutes = readConfigRoutes(routesMap, lines);
  const byShape = new Map<string, ConfigRoute>();
  for (const r of configRoutes) for (const m of r.methods) if (!byShape.has(shapeKey(m, r.shape))) byShape.set(shapeKey(m, r.shape), r);

  const added: ImportedRoute[] = [];
  const changed: string[] = [];
  const specShapes = new Set<string>();
  const specPaths = new Set<string>();
  for (const route of imported.entries) {
    const parsed = parseTemplate(route.template);
    const shape = 'error' in parsed ? route.template : templateShape(parsed);
    specShapes.add(shapeKey(route.method, shape));
    specPaths.add(shape);
    const existing = byShape.get(shapeKey(route.method, shape));
    if (existing === undefined) added.push(route);
    else if (existing.requirement === undefined || !same(existing.requirement, fromSpec(route.requirement))) {
      changed.push(`${route.method} ${route.template}: the spec requires ${describe(fromSpec(route.requirement))}; ${file}:${existing.line} "${existing.key}" has ${describe(existing.requirement)} (kept)`);
    }
  }

  const removed: string[] = [];
  for (const r of configRoutes) {
    if (r.answered) continue;
    const gone = r.anyMethod ? (specPaths.has(r.shape) ? [] : ['*']) : r.methods.filter((m) => !specShapes.has(shapeKey(m, r.shape)));
    if (gone.length > 0) removed.push(`${file}:${r.line} "${r.key}": ${gone.join(',')} not in the spec (kept; delete it if the API no longer serves it)`);
  }

  const { insertions, addedScopes } = additions(doc, source, file, routesMap, added, imported, addedNote);
  let text = source;
  for (const ins of [...insertions].sort((a, b) => b.at - a.at)) text = text.slice(0, ins.at) + ins.text + text.slice(ins.at);
  verify(text, file, routesMap.items.length + added.length);
  return { text, added: added.map((r) => r.key), addedScopes, removed, changed };
}

/** The text to insert: the added routes, and the catalogue entries they need when the config has a catalogue. */
function additions(doc: Document, source: string, file: string, routesMap: YAMLMap, added: readonly ImportedRoute[], imported: ImportResult, note: string): { insertions: Insertion[]; addedScopes: string[] } {
  if (added.length === 0) return { insertions: [], addedScopes: [] };
  const insertions = [insertion(source, routesMap, added.map((r) => routePair({ ...r, notes: [oneLine(note), ...r.notes] })))];
  const scopesMap = blockMap(doc, 'scopes');
  if (scopesMap === undefined) return { insertions, addedScopes: [] };
  const needed = new Set(added.flatMap((r) => (r.requirement.kind === 'all_of' || r.requirement.kind === 'any_of' ? r.requirement.scopes : [])));
  const missing = imported.catalogue.filter((s) => needed.has(s.name) && !(typeof scopesMap !== 'string' && scopesMap.has(s.name)));
  if (missing.length === 0) return { insertions, addedScopes: [] };
  if (typeof scopesMap === 'string') throw new OpenApiImportError(`${file}: scopes ${missing.map((s) => s.name).join(', ')} must be added to the catalogue, but ${scopesMap}`);
  insertions.push(insertion(source, scopesMap, missing.map((s) => scopePair(s))));
  return { insertions, addedScopes: missing.map((s) => s.name) };
}

/** Fail closed: the merged text must parse, and hold exactly the routes expected. */
function verify(text: string, file: string, expectedRoutes: number): void {
  const merged = parseDocument(text);
  const routes = merged.get('routes', true);
  if (merged.errors.length > 0 || !isMap(routes) || routes.items.length !== expectedRoutes) {
    throw new OpenApiImportError(`${file}: the merged text did not read back as expected (${merged.errors[0]?.message ?? 'route count differs'}); nothing written`);
  }
}

/**
 * YAML with positions: parse a config text, report issues at the line and
 * column of the node they are about (`file:line:col: key.path: message`),
 * walk mappings, and suggest the key an author probably meant.
 *
 * Validation walks the YAML node tree (not the plain JS value) so every issue
 * carries a position: the key node for an unknown key, the value node for a bad
 * value. The typed value readers built on this live in readers.ts.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { ConfigIssue } from '../errors.js';

/** A YAML node, or null/undefined where YAML had nothing (e.g. `key:` with no value, or a missing key). */
export type YNode = Node | null | undefined;

export interface Reporter {
  error(at: YNode, path: string, message: string): void;
  warning(at: YNode, path: string, message: string): void;
  position(at: YNode): { line: number; col: number };
}

/** Where an issue goes when its node has no position (a missing value, an empty file). */
const FILE_START = { line: 1, col: 1 };

export function createReporter(file: string, lc: LineCounter, issues: ConfigIssue[]): Reporter {
  const position = (at: YNode): { line: number; col: number } => {
    const start = at?.range?.[0];
    if (start === undefined) return FILE_START;
    const { line, col } = lc.linePos(start);
    return line === 0 ? FILE_START : { line, col };
  };
  const push = (severity: 'error' | 'warning') => (at: YNode, path: string, message: string) => {
    issues.push({ file, ...position(at), path, message, severity });
  };
  return { error: push('error'), warning: push('warning'), position };
}

export interface ParsedYaml {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  /** True when the parser found a syntax error: the tree then no longer says what the author meant. */
  readonly broken: boolean;
}

/** Parse config text; YAML syntax errors and warnings become issues (one error per line). */
export function parseYaml(text: string, file: string, issues: ConfigIssue[]): ParsedYaml {
  const lc = new LineCounter();
  // uniqueKeys: false — duplicates are reported by entries() with their key path.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const lines = text.split(/\r?\n/);
  const linesWithYamlError = new Set<number>();
  for (const e of doc.errors) {
    const { line, col } = lc.linePos(e.pos[0]);
    const at = line === 0 ? FILE_START : { line, col };
    // One syntax mistake often yields several parser errors on its line; the first says what went wrong.
    if (linesWithYamlError.has(at.line)) continue;
    linesWithYamlError.add(at.line);
    const srcLine = lines[at.line - 1] ?? '';
    // `* /x: ...` reads as a YAML alias; the fix is not obvious from the YAML message.
    const hint = srcLine.trimStart().startsWith('*') ? ' (a route key starting with * must be quoted: "* /path")' : '';
    issues.push({ file, ...at, path: '', message: `YAML: ${e.message}${hint}`, severity: 'error' });
  }
  for (const w of doc.warnings) {
    const { line, col } = lc.linePos(w.pos[0]);
    issues.push({ file, line: Math.max(line, 1), col: Math.max(col, 1), path: '', message: `YAML: ${w.message}`, severity: 'warning' });
  }
  return { doc, lineCounter: lc, broken: doc.errors.length > 0 };
}

// ───────────────────────────── key paths and descriptions ─────────────────────────────

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `auth.jwks`, `routes."GET /a"`: a key that is not an identifier is quoted. */
export function childPath(path: string, key: string): string {
  const k = IDENTIFIER.test(key) ? key : JSON.stringify(key);
  return path === '' ? k : `${path}.${k}`;
}

export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** How a value reads in a message: `string "30"`, `a list`, `nothing`. */
export function describe(node: YNode): string {
  if (node == null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  const v: unknown = node.value;
  if (v === null) return 'nothing';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

/** Aliases are refused outright: they hide where a value was written and invite alias bombs. */
export function refuseAlias(node: YNode, path: string, r: Reporter): boolean {
  if (!isAlias(node)) return false;
  r.error(node, path, 'YAML aliases (*name) are not supported in scopegate config; write the value out');
  return true;
}

export function isNothing(node: YNode): boolean {
  return node == null || (isScalar(node) && node.value === null);
}

// ───────────────────────────── mappings ─────────────────────────────

export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: YNode;
}

/** The pairs of a mapping with string keys; non-string and duplicate keys are reported and skipped. */
export function entries(node: YNode, path: string, r: Reporter): Entry[] | undefined {
  if (refuseAlias(node, path, r)) return undefined;
  if (!isMap(node)) {
    r.error(node, path, `must be a mapping, got ${describe(node)}`);
    return undefined;
  }
  const out: Entry[] = [];
  const seen = new Set<string>();
  for (const pair of node.items as Array<Pair<YNode, YNode>>) {
    const keyNode = pair.key;
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
      r.error(keyNode ?? node, path, `keys must be strings, got ${describe(keyNode)}`);
      continue;
    }
    const key = keyNode.value;
    if (seen.has(key)) {
      r.error(keyNode, childPath(path, key), 'duplicate key');
      continue;
    }
    seen.add(key);
    out.push({ key, keyNode, value: pair.value });
  }
  return out;
}

/** The value under `key` in a mapping node (the first, if the key is repeated). */
export function findValue(node: YNode, key: string): YNode {
  if (!isMap(node)) return undefined;
  for (const pair of node.items as Array<Pair<YNode, YNode>>) {
    if (isScalar(pair.key) && pair.key.value === key) return pair.value;
  }
  return undefined;
}

/** The key node of `key` in a mapping node: where an issue about the whole entry points. */
export function findKeyNode(node: YNode, key: string): YNode {
  if (!isMap(node)) return undefined;
  const pair = (node.items as Array<Pair<YNode, YNode>>).find((p) => isScalar(p.key) && p.key.value === key);
  return pair?.key ?? undefined;
}

// ───────────────────────────── did you mean ─────────────────────────────

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/**
 * `unknown key "timeoutMs" (did you mean timeout_ms?)`: the camelCase spelling of
 * a known key, or a known key within two edits. Ties go to the earlier of `known`.
 */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const best = known
    .map((k) => ({ k, d: k === snake ? 0 : editDistance(key, k) }))
    .sort((x, y) => x.d - y.d)[0];
  const hint = best !== undefined && best.d <= 2 ? ` (did you mean ${best.k}?)` : '';
  return `unknown key ${JSON.stringify(key)}${hint}`;
}

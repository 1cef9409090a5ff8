/** Run one reader over a YAML snippet, collecting its issues as `line:col path: message`. */
import type { ConfigIssue } from '../../../src/errors.js';
import type { Reader } from '../../../src/config/readers.js';
import { createReporter, parseYaml, type Reporter, type YNode } from '../../../src/config/yaml-reader.js';

export function readYaml<T>(text: string, read: (node: YNode, path: string, r: Reporter) => T | undefined | Reader<T>, path = 'x'): { value: T | undefined; issues: string[] } {
  const issues: ConfigIssue[] = [];
  const { doc, lineCounter } = parseYaml(text, 't.yaml', issues);
  const r = createReporter('t.yaml', lineCounter, issues);
  const value = read(doc.contents as YNode, path, r) as T | undefined;
  return { value, issues: issues.map((i) => `${i.severity === 'warning' ? 'warning ' : ''}${i.line}:${i.col} ${i.path}: ${i.message}`) };
}

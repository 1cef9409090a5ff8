/**
 * The layout rules of docs/architecture.md, checked on every run so they stay true:
 * no file in src/ over 400 lines, no function whose own body (nested functions
 * excluded) is over 120 lines, and no comment citing a document a user of the
 * repository cannot open. A file may name an exception at its top with
 * `layout-exception: <reason>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
const MAX_FILE_LINES = 400;
const MAX_OWN_BODY_LINES = 120;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function lineOf(file: ts.SourceFile, pos: number): number {
  return file.getLineAndCharacterOfPosition(pos).line;
}

/** Lines of a function's body, minus the lines of the functions nested in it. */
function ownBodyLines(file: ts.SourceFile, body: ts.Node): number {
  let lines = lineOf(file, body.getEnd()) - lineOf(file, body.getStart(file)) + 1;
  const subtractNested = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const inner = node.body as ts.Node;
      lines -= lineOf(file, inner.getEnd()) - lineOf(file, inner.getStart(file)) + 1;
      return;
    }
    ts.forEachChild(node, subtractNested);
  };
  ts.forEachChild(body, subtractNested);
  return lines;
}

interface LongFunction { readonly name: string; readonly line: number; readonly lines: number }

function longFunctions(path: string, text: string): LongFunction[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const lines = ownBodyLines(file, node.body as ts.Node);
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (lines > MAX_OWN_BODY_LINES) found.push({ name, line: lineOf(file, node.getStart(file)) + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const files = sourceFiles(SRC);

t.test('the checker sees what it checks (positive control)', async (t) => {
  t.ok(files.length > 50, `found ${files.length} source files`);
  const body = Array.from({ length: MAX_OWN_BODY_LINES + 5 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const long = `function outer() {\n${body}\n}\n`;
  t.same(longFunctions('x.ts', long).map((f) => f.name), ['outer']);
  const nested = `function outer() {\n  function inner() {\n${body}\n  }\n  return inner;\n}\n`;
  t.same(longFunctions('x.ts', nested).map((f) => f.name), ['inner'], 'a nested body counts for the nested function only');
});

t.test(`no file in src/ over ${MAX_FILE_LINES} lines, no function body over ${MAX_OWN_BODY_LINES}`, async (t) => {
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    if (/layout-exception:/.test(text.slice(0, 2000))) continue;
    const name = relative(ROOT, path);
    const lines = text.split('\n').length;
    t.ok(lines <= MAX_FILE_LINES, `${name}: ${lines} lines`);
    for (const f of longFunctions(path, text)) t.fail(`${name}:${f.line} ${f.name}: own body ${f.lines} lines`);
  }
});

t.test('comments cite the repository, an RFC or the README, never an outside file', async (t) => {
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    t.notMatch(text, /DESIGN\.md|\.\.\/shared\//, relative(ROOT, path));
  }
});

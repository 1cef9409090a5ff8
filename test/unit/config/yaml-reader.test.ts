/** yaml-reader.ts: positions, key paths, mapping entries and "did you mean". */
import t from 'tap';
import type { ConfigIssue } from '../../../src/errors.js';
import { childPath, describe, entries, findKeyNode, findValue, parseYaml, unknownKeyMessage } from '../../../src/config/yaml-reader.js';
import { readYaml } from './read-yaml.js';

t.test('unknownKeyMessage: camelCase spelling, two edits at most, ties to the earlier key', async (t) => {
  const known = ['timeout_ms', 'connect_timeout_ms', 'connections'];
  t.equal(unknownKeyMessage('timeoutMs', known), 'unknown key "timeoutMs" (did you mean timeout_ms?)');
  t.equal(unknownKeyMessage('conections', known), 'unknown key "conections" (did you mean connections?)');
  t.equal(unknownKeyMessage('timeout', known), 'unknown key "timeout"', 'three edits away: no guess');
  t.equal(unknownKeyMessage('ab', ['ax', 'ay']), 'unknown key "ab" (did you mean ax?)', 'a tie goes to the earlier key');
  t.equal(unknownKeyMessage('x', []), 'unknown key "x"');
});

t.test('childPath quotes keys that are not identifiers', async (t) => {
  t.equal(childPath('', 'auth'), 'auth');
  t.equal(childPath('auth', 'jwks'), 'auth.jwks');
  t.equal(childPath('routes', 'GET /a'), 'routes."GET /a"');
  t.equal(childPath('scopes', 'read:x'), 'scopes."read:x"');
});

t.test('describe says what a value is', async (t) => {
  const cases: Array<[string, string]> = [
    ['"30"', 'string "30"'],
    ['30', 'number 30'],
    ['true', 'boolean true'],
    ['[1]', 'a list'],
    ['{a: 1}', 'a mapping'],
    ['~', 'nothing'],
  ];
  for (const [text, want] of cases) t.equal(readYaml(text, (node) => describe(node)).value, want, text);
  t.equal(describe(undefined), 'nothing');
});

t.test('entries: non-string and duplicate keys are reported at the key and skipped; aliases refused', async (t) => {
  const { value, issues } = readYaml('a: 1\n1: 2\na: 3\nb: 4\n', entries);
  t.same(value?.map((e) => e.key), ['a', 'b']);
  t.same(issues, ['2:1 x: keys must be strings, got number 1', '3:1 x.a: duplicate key']);
  t.same(readYaml('- 1\n', entries).issues, ['1:1 x: must be a mapping, got a list']);
  const alias = readYaml('a: &v 1\nb: *v\n', (node, path, r) => entries(findValue(node, 'b'), path, r));
  t.same(alias.issues, ['2:4 x: YAML aliases (*name) are not supported in scopegate config; write the value out']);
});

t.test('findValue and findKeyNode point at the value and the key', async (t) => {
  const { value } = readYaml('a: 1\nb: two\n', (node) => [findValue(node, 'b'), findKeyNode(node, 'b'), findValue(node, 'c')]);
  t.match(value?.[0], { value: 'two' });
  t.match(value?.[1], { value: 'b' });
  t.equal(value?.[2], undefined);
});

t.test('parseYaml: one syntax error per line, a hint for an unquoted * route key, warnings kept', async (t) => {
  const issues: ConfigIssue[] = [];
  const { broken } = parseYaml('routes:\n  * /x: a\n', 'f.yaml', issues);
  t.ok(broken);
  const lines = issues.filter((i) => i.severity === 'error').map((i) => i.line);
  t.same(lines, [...new Set(lines)], 'at most one error per line');
  t.ok(issues.some((i) => i.message.endsWith('(a route key starting with * must be quoted: "* /path")')));
  const ok: ConfigIssue[] = [];
  t.notOk(parseYaml('a: 1\n', 'f.yaml', ok).broken);
  t.same(ok, []);
});

t.test('an issue about a node that is not there points at the start of the file', async (t) => {
  const { issues } = readYaml('\n\na: 1\n', (node, path, r) => {
    r.error(findValue(node, 'b'), path, 'missing');
    return undefined;
  });
  t.same(issues, ['1:1 x: missing']);
});

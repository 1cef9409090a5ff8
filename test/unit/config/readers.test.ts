/** readers.ts: the generic readers' messages and the JSON Schema each one carries. */
import t from 'tap';
import { bool, int, listOf, mapped, oneOf, reader, str } from '../../../src/config/readers.js';
import { readYaml } from './read-yaml.js';

t.test('int: type, integral spelling, range', async (t) => {
  const port = int([1, 10]);
  t.equal(readYaml('7', port).value, 7);
  t.equal(readYaml('0x0a', port).value, 10, 'hex is an integer spelling');
  t.same(readYaml('"7"', port).issues, ['1:1 x: must be an integer, got string "7"']);
  t.same(readYaml('7.0', port).issues, ['1:1 x: must be an integer, got 7.0']);
  t.same(readYaml('1e1', port).issues, ['1:1 x: must be an integer, got 1e1']);
  t.same(readYaml('11', port).issues, ['1:1 x: must be between 1 and 10, got 11']);
  t.same(readYaml('2', int([1, 1])).issues, ['1:1 x: must be 1, got 2']);
  t.same(port.schema, { type: 'integer', minimum: 1, maximum: 10 });
  t.same(port.range, [1, 10]);
});

t.test('str: non-empty, custom check; its schema is the one given, else type string', async (t) => {
  const name = str({ nonEmpty: true, check: (s) => (s.includes(' ') ? 'no spaces' : undefined) });
  t.equal(readYaml('abc', name).value, 'abc');
  t.same(readYaml('""', name).issues, ['1:1 x: must not be empty']);
  t.same(readYaml('"a b"', name).issues, ['1:1 x: no spaces']);
  t.same(readYaml('3', name).issues, ['1:1 x: must be a string, got number 3']);
  t.same(name.schema, { type: 'string', minLength: 1 });
  t.same(str({ schema: { $ref: '#/$defs/scope' } }).schema, { $ref: '#/$defs/scope' });
});

t.test('oneOf, bool and mapped', async (t) => {
  const mode = oneOf(['enforce', 'shadow'] as const);
  t.equal(readYaml('shadow', mode).value, 'shadow');
  t.same(readYaml('fuzzy', mode).issues, ['1:1 x: must be one of enforce, shadow, got string "fuzzy"']);
  t.same(mode.schema, { enum: ['enforce', 'shadow'] });
  t.equal(readYaml('false', bool).value, false);
  t.same(readYaml('yes please', bool).issues, ['1:1 x: must be true or false, got string "yes please"']);
  const on = mapped(oneOf(['on', 'off'] as const), (v) => v === 'on');
  t.equal(readYaml('off', on).value, false);
  t.same(on.schema, { enum: ['on', 'off'] });
});

t.test('listOf: every item read, duplicates and empty lists reported', async (t) => {
  const list = listOf(str(), { nonEmpty: true, unique: true });
  t.same(readYaml('[a, b]', list).value, ['a', 'b']);
  t.same(readYaml('[a, b, a]', list).issues, ['1:8 x[2]: duplicate "a"']);
  t.same(readYaml('[]', list).issues, ['1:1 x: must not be empty']);
  t.same(readYaml('[a, 1]', list).issues, ['1:5 x[1]: must be a string, got number 1']);
  t.same(readYaml('a', list).issues, ['1:1 x: must be a list, got string "a"']);
  t.same(list.schema, { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' } });
});

t.test('reader() wraps: the reader passed in keeps its own schema', async (t) => {
  const mode = oneOf(['a', 'b'] as const);
  const ref = reader({ $ref: '#/$defs/mode' }, mode);
  t.same(ref.schema, { $ref: '#/$defs/mode' });
  t.same(mode.schema, { enum: ['a', 'b'] });
  t.equal(readYaml('a', ref).value, 'a');
});

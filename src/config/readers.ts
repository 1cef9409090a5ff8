/**
 * Typed value readers over the YAML tree (yaml-reader.ts). Apart from that
 * file because these are the vocabulary the section tables are written in,
 * while yaml-reader.ts is about positions and messages.
 *
 * A reader reads one node, reports its own issues, and returns undefined when
 * the value is invalid. Each also carries the JSON Schema of what it accepts,
 * so config/scopegate.schema.json is generated from the same readers the
 * loader runs (json-schema.ts).
 */
import { isScalar, isSeq } from 'yaml';
import { describe, indexPath, refuseAlias, type Reporter, type YNode } from './yaml-reader.js';

/** A JSON Schema (draft 2020-12) fragment. */
export type JsonSchema = { readonly [keyword: string]: unknown };

export interface Reader<T> {
  (node: YNode, path: string, r: Reporter): T | undefined;
  /** What JSON Schema can say about the values this reader accepts (the loader may check more). */
  readonly schema: JsonSchema;
}

/** A reader from its JSON Schema and its read function (a new function: a reader passed in keeps its own schema). */
export function reader<T>(schema: JsonSchema, read: (node: YNode, path: string, r: Reporter) => T | undefined): Reader<T> {
  return Object.assign((node: YNode, path: string, r: Reporter) => read(node, path, r), { schema });
}

/** The same reader with its value mapped (e.g. `on`/`off` → boolean); the schema is unchanged. */
export function mapped<A, B>(read: Reader<A>, f: (a: A) => B): Reader<B> {
  return reader(read.schema, (node, path, r) => {
    const a = read(node, path, r);
    return a === undefined ? undefined : f(a);
  });
}

interface StrOptions {
  readonly nonEmpty?: boolean;
  /** A problem with the string, as the message to report, or undefined when it is fine. */
  readonly check?: (s: string) => string | undefined;
  /** The JSON Schema, when it says more than `type: string` (a pattern for what `check` enforces, or a `$ref`). */
  readonly schema?: JsonSchema;
}

export function str(opts: StrOptions = {}): Reader<string> {
  const schema = opts.schema ?? { type: 'string', ...(opts.nonEmpty === true ? { minLength: 1 } : {}) };
  return reader(schema, (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string') {
      r.error(node, path, `must be a string, got ${describe(node)}`);
      return undefined;
    }
    const s = node.value;
    if (opts.nonEmpty === true && s === '') {
      r.error(node, path, 'must not be empty');
      return undefined;
    }
    const problem = opts.check?.(s);
    if (problem !== undefined) {
      r.error(node, path, problem);
      return undefined;
    }
    return s;
  });
}

/** Plain-scalar spellings YAML 1.2 resolves to integers. `1.0` and `1e3` resolve to numbers too, but are not written as integers. */
const INTEGER_SOURCE = /^[-+]?(?:[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$/;

/** An integer in the inclusive range [min, max]. */
export function int(range: readonly [number, number]): Reader<number> & { readonly range: readonly [number, number] } {
  const [min, max] = range;
  const read = reader({ type: 'integer', minimum: min, maximum: max }, (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'number') {
      r.error(node, path, `must be an integer, got ${describe(node)}`);
      return undefined;
    }
    const source = (node as { source?: unknown }).source;
    if (!Number.isInteger(node.value) || (typeof source === 'string' && !INTEGER_SOURCE.test(source))) {
      r.error(node, path, `must be an integer, got ${typeof source === 'string' ? source : String(node.value)}`);
      return undefined;
    }
    if (node.value < min || node.value > max) {
      r.error(node, path, min === max ? `must be ${min}, got ${node.value}` : `must be between ${min} and ${max}, got ${node.value}`);
      return undefined;
    }
    return node.value;
  });
  return Object.assign(read, { range });
}

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(values: readonly T[]): Reader<T> {
  return reader({ enum: values }, (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string' || !(values as readonly string[]).includes(node.value)) {
      r.error(node, path, `must be one of ${values.join(', ')}, got ${describe(node)}`);
      return undefined;
    }
    return node.value as T;
  });
}

export const bool: Reader<boolean> = reader({ type: 'boolean' }, (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  r.error(node, path, `must be true or false, got ${describe(node)}`);
  return undefined;
});

interface ListOptions {
  readonly nonEmpty?: boolean;
  /** Item values compared with ===; the later duplicate is reported. */
  readonly unique?: boolean;
  /** The list's JSON Schema, when it is a shared definition (`$ref`) rather than spelled out. */
  readonly schema?: JsonSchema;
}

/** A list; every item read; undefined if any item is invalid. */
export function listOf<T>(item: Reader<T>, opts: ListOptions = {}): Reader<T[]> {
  const schema = opts.schema ?? {
    type: 'array',
    ...(opts.nonEmpty === true ? { minItems: 1 } : {}),
    ...(opts.unique === true ? { uniqueItems: true } : {}),
    items: item.schema,
  };
  return reader(schema, (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isSeq(node)) {
      r.error(node, path, `must be a list, got ${describe(node)}`);
      return undefined;
    }
    if (opts.nonEmpty === true && node.items.length === 0) {
      r.error(node, path, 'must not be empty');
      return undefined;
    }
    const out: T[] = [];
    let ok = true;
    node.items.forEach((child, i) => {
      const itemNode = child as YNode;
      const v = item(itemNode, indexPath(path, i), r);
      if (v === undefined) {
        ok = false;
      } else if (opts.unique === true && out.includes(v)) {
        r.error(itemNode, indexPath(path, i), `duplicate ${JSON.stringify(v)}`);
        ok = false;
      } else {
        out.push(v);
      }
    });
    return ok ? out : undefined;
  });
}

/**
 * Field tables: one row per option, carrying everything about it — its YAML
 * key, its reader (range included), its default and its documentation — so
 * reading a section, filling its defaults, and describing it in JSON Schema
 * are each written once, here, for every section (sections.ts holds the tables).
 */
import { reader, type JsonSchema, type Reader } from './readers.js';
import { childPath, entries, unknownKeyMessage, type Reporter, type YNode } from './yaml-reader.js';

export interface Row<T> {
  /** The YAML key (snake_case); the table is keyed by the Config property (camelCase). */
  readonly key: string;
  /** Reads and checks the value, range included. */
  readonly read: Reader<T>;
  /** The value when the key is omitted. None for required options, and for optional ones that stay unset. */
  readonly default?: T;
  readonly required?: true;
  /** What the option is for, with its unit: the JSON Schema `description`. */
  readonly doc?: string;
  /** The option's JSON Schema when it differs from its reader's (e.g. `const: 1` for version). */
  readonly schema?: JsonSchema;
  /** The default as written in YAML, when that is not the value itself (a listen address). */
  readonly yamlDefault?: unknown;
}

/** One row per property of C; TypeScript checks each reader and default against C. */
export type Rows<C> = { readonly [P in keyof C]-?: Row<Exclude<C[P], undefined>> };

/** A reader of a whole section: it knows its rows (for defaults, ranges and JSON Schema). */
export interface SectionReader<C> extends Reader<C> {
  readonly rows: Rows<C>;
}

function isSection(read: Reader<unknown>): read is SectionReader<unknown> {
  return 'rows' in read;
}

function propsOf<C>(rows: Rows<C>): Array<keyof C & string> {
  return Object.keys(rows) as Array<keyof C & string>;
}

/**
 * The values a mapping sets, read through its rows: unknown keys are errors at
 * the key (with "did you mean"), missing required keys at the mapping. An
 * invalid value is reported and left out. Undefined only when the node is not a mapping.
 */
export function readFields<C>(node: YNode, path: string, r: Reporter, rows: Rows<C>): Partial<C> | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  const props = propsOf(rows);
  const propOfKey = new Map(props.map((p) => [rows[p].key, p]));
  const known = [...propOfKey.keys()];
  const out: Partial<C> = {};
  for (const { key, keyNode, value } of list) {
    const prop = propOfKey.get(key);
    if (prop === undefined) {
      r.error(keyNode, childPath(path, key), unknownKeyMessage(key, known));
      continue;
    }
    const v = rows[prop].read(value, childPath(path, key), r);
    if (v !== undefined) out[prop] = v as C[typeof prop];
  }
  for (const prop of props) {
    const { key, required } = rows[prop];
    if (required === true && !list.some((e) => e.key === key)) r.error(node, path, `missing required key ${JSON.stringify(key)}`);
  }
  return out;
}

/**
 * `undefined`: a property with neither a value nor a default is present as undefined (`T | undefined` fields).
 * `leave out`: it is absent (optional `?:` fields).
 */
export type Unset = 'undefined' | 'leave out';

/** Every row's property, in row order: the value read, else a fresh copy of the default. */
export function withDefaults<C>(rows: Rows<C>, values: Partial<C>, unset: Unset = 'undefined'): C {
  const out: Partial<C> = {};
  for (const prop of propsOf(rows)) {
    const fallback = rows[prop].default;
    // A copy: each Config is frozen on its own and never shares an object with the tables.
    const v = values[prop] ?? (fallback === undefined ? undefined : structuredClone(fallback));
    if (v !== undefined || unset === 'undefined') out[prop] = v as C[typeof prop];
  }
  // Complete but for required options that were missing, which makes the whole config an error.
  return out as C;
}

/** A section: a mapping read through its rows, with every default filled in. */
export function section<C>(rows: Rows<C>, unset: Unset = 'undefined'): SectionReader<C> {
  const read = reader(objectSchema(rows), (node, path, r) => {
    const values = readFields(node, path, r, rows);
    return values === undefined ? undefined : withDefaults(rows, values, unset);
  });
  return Object.assign(read, { rows });
}

/** The defaults of a section, in row order (rows without one are left out). */
export function defaultsOf<C>(rows: Rows<C>): Partial<C> {
  const out: Partial<C> = {};
  for (const prop of propsOf(rows)) {
    const d = rows[prop].default;
    if (d !== undefined) out[prop] = d as C[typeof prop];
  }
  return out;
}

export type Ranges = { readonly [prop: string]: readonly [number, number] | Ranges };

/** The inclusive [min, max] of every integer option of a section, nested sections included. */
export function rangesOf<C>(rows: Rows<C>): Ranges {
  const out: Record<string, Ranges[string]> = {};
  for (const prop of propsOf(rows)) {
    const read: Reader<unknown> & { range?: readonly [number, number] } = rows[prop].read;
    if (read.range !== undefined) out[prop] = read.range;
    else if (isSection(read)) {
      const nested = rangesOf(read.rows);
      if (Object.keys(nested).length > 0) out[prop] = nested;
    }
  }
  return out;
}

/** The JSON Schema of one option: its reader's (or its own) schema, its doc, and its default. */
export function propertySchema(row: Row<unknown>): JsonSchema {
  const { $ref, ...rest } = row.schema ?? row.read.schema;
  // A section's default is its rows' defaults, which its own properties already state.
  const shown = row.yamlDefault ?? (isSection(row.read) ? undefined : row.default);
  return {
    ...($ref === undefined ? {} : { $ref }),
    ...(row.doc === undefined ? {} : { description: row.doc }),
    ...rest,
    ...(shown === undefined ? {} : { default: shown }),
  };
}

/** A closed JSON Schema object: exactly the table's keys. */
export function objectSchema<C>(rows: Rows<C>): JsonSchema {
  const list = propsOf(rows).map((p) => rows[p] as Row<unknown>);
  const required = list.filter((row) => row.required === true).map((row) => row.key);
  return {
    type: 'object',
    additionalProperties: false,
    ...(required.length > 0 ? { required } : {}),
    properties: Object.fromEntries(list.map((row) => [row.key, propertySchema(row)])),
  };
}

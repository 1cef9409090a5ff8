/**
 * The operations of an OpenAPI document → scopegate routes, in document order,
 * with a warning for each operation skipped and one grouped warning per kind of
 * repeated issue. The rules are listed at the top of import.ts.
 */
import { HTTP_METHODS, type HttpMethod } from '../config/schema.js';
import { unscopedWriteWarning, WRITE_METHODS } from '../config/vocabulary.js';
import type { EmittedRoute } from './emit.js';
import { toRouteTemplate, type TemplateResult } from './paths.js';
import { mapSecurity, type SecurityContext } from './security.js';
import { isObject, oneLine, quote, resolveRef, stringField, type JsonObject } from './spec.js';

export interface ImportedRoute extends EmittedRoute {
  readonly method: HttpMethod;
  readonly template: string;
}

/** OpenAPI operation keys, in the order scopegate writes methods. */
const METHOD_KEYS: ReadonlyArray<readonly [string, HttpMethod]> = HTTP_METHODS.map((m) => [m.toLowerCase(), m] as const);
/** Operation keys scopegate has no method for. */
const UNSUPPORTED_METHOD_KEYS = ['trace', 'query'] as const;
/** Operations named in one grouped warning before "and N more". */
const GROUP_SAMPLE = 3;

/** What reading the operations accumulates across paths. */
interface Reading {
  readonly spec: JsonObject;
  readonly basePath: string;
  readonly ctx: SecurityContext;
  readonly globalSecurity: unknown;
  readonly warnings: string[];
  /** Grouped warning → the operations it applies to, in document order. */
  readonly grouped: Map<string, string[]>;
  /** `METHOD shape` → the operation that claimed it first. */
  readonly byShape: Map<string, string>;
  readonly routes: ImportedRoute[];
}

/** Every operation under `paths` → a route (unsorted); warnings are appended to `warnings`. */
export function readOperations(spec: JsonObject, basePath: string, ctx: SecurityContext, warnings: string[]): ImportedRoute[] {
  const globalSecurity: unknown = Object.hasOwn(spec, 'security') ? spec.security : undefined;
  const reading: Reading = { spec, basePath, ctx, globalSecurity, warnings, grouped: new Map(), byShape: new Map(), routes: [] };
  const paths = spec.paths;
  if (paths !== undefined && !isObject(paths)) warnings.push('"paths" is not a mapping: no operation read');
  for (const [path, rawItem] of Object.entries(isObject(paths) ? paths : {})) readPathItem(reading, path, rawItem);
  for (const [group, ops] of reading.grouped) {
    const more = ops.length > GROUP_SAMPLE ? ` and ${ops.length - GROUP_SAMPLE} more` : '';
    warnings.push(`${group}: ${ops.slice(0, GROUP_SAMPLE).join(', ')}${more}`);
  }
  return reading.routes;
}

function readPathItem(reading: Reading, path: string, rawItem: unknown): void {
  const { warnings } = reading;
  const label = (m: string): string => `${m.toUpperCase()} ${oneLine(path)}`;
  const resolved = resolveRef(reading.spec, rawItem);
  if ('error' in resolved || !isObject(resolved.value)) {
    warnings.push(`path ${quote(path)}: ${'error' in resolved ? resolved.error : 'not a mapping'}; its operations are skipped`);
    return;
  }
  const item = resolved.value;
  if (item.servers !== undefined) warnings.push(`path ${quote(path)}: its own "servers" override is ignored (scopegate forwards every route to the one upstream)`);
  for (const m of UNSUPPORTED_METHOD_KEYS) {
    if (isObject(item[m])) warnings.push(`${label(m)}: skipped: scopegate has no ${m.toUpperCase()} method (requests with it are answered 405)`);
  }
  if (isObject(item.additionalOperations)) {
    for (const m of Object.keys(item.additionalOperations)) warnings.push(`${oneLine(m)} ${oneLine(path)}: skipped: additionalOperations are not imported`);
  }

  let template: TemplateResult | undefined;
  for (const [opKey, method] of METHOD_KEYS) {
    const op = item[opKey];
    if (op === undefined) continue;
    const where = label(opKey);
    if (!isObject(op)) {
      warnings.push(`${where}: skipped: the operation is not a mapping`);
      continue;
    }
    template ??= toRouteTemplate(reading.basePath, path);
    if ('reason' in template) {
      warnings.push(`${where}: skipped: ${template.reason}`);
      continue;
    }
    readOperation(reading, op, method, template, where);
  }
}

function readOperation(reading: Reading, op: JsonObject, method: HttpMethod, template: { readonly template: string; readonly shape: string }, where: string): void {
  const { warnings, grouped } = reading;
  if (op.servers !== undefined) warnings.push(`${where}: its own "servers" override is ignored`);

  const effective: unknown = Object.hasOwn(op, 'security') ? op.security : reading.globalSecurity;
  const mapped = mapSecurity(effective, reading.ctx);
  for (const issue of mapped.issues) {
    if (issue.group === undefined) warnings.push(`${where}: ${issue.message}`);
    else addGrouped(grouped, issue.group, where);
  }
  if (mapped.requirement === undefined) return;

  const shapeKey = `${method} ${template.shape}`;
  const earlier = reading.byShape.get(shapeKey);
  if (earlier !== undefined) {
    warnings.push(`${where}: skipped: scopegate cannot tell it apart from ${earlier} (same method, same path shape; parameter names do not count)`);
    return;
  }
  reading.byShape.set(shapeKey, where);

  const notes = [...mapped.notes];
  if (op.deprecated === true) notes.push('deprecated in the spec');
  const auth = mapped.requirement.kind;
  if (WRITE_METHODS.has(method) && (auth === 'token' || auth === 'none')) {
    // A write that needs no scope is what least privilege is about: said above the route, and once on stderr.
    notes.push(`WARNING: ${unscopedWriteWarning([method], auth)}`);
    addGrouped(grouped, `write operations that need no scope (${auth === 'token' ? '{ auth: token }: any valid token' : '{ auth: none }: anyone'} can change data)`, where);
  }
  const operationId = stringField(op, 'operationId');
  const trailing = [operationId === undefined ? undefined : oneLine(operationId, 80), mapped.inline].filter((x) => x !== undefined).join('; ');
  reading.routes.push({
    method,
    template: template.template,
    key: `${method} ${template.template}`,
    requirement: mapped.requirement,
    notes,
    trailing: trailing === '' ? undefined : trailing,
  });
}

function addGrouped(grouped: Map<string, string[]>, group: string, where: string): void {
  const ops = grouped.get(group) ?? [];
  ops.push(where);
  grouped.set(group, ops);
}

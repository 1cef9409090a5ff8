/**
 * Route conditions (`where:`, README "Object-level conditions"): each entry binds a
 * route parameter to a claim, `{ PARAM: { claim: NAME | { path: [...] } } }`. Read
 * here; that a route names only its own parameters is checked by checkWhereParams
 * once the route key is parsed; compiled to a predicate in policy/conditions.ts.
 */
import { readClaimRef } from './claims.js';
import { reader, type Reader } from './readers.js';
import type { RouteCondition } from './schema.js';
import { childPath, entries, findKeyNode, findValue, unknownKeyMessage, type Reporter, type YNode } from './yaml-reader.js';

const CONDITION_SCHEMA = {
  type: 'object',
  minProperties: 1,
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    required: ['claim'],
    properties: { claim: { ...readClaimRef.schema, description: 'The decoded parameter must equal this claim (a string) or be one of its elements (an array of strings).' } },
  },
};

/** One condition's value: `{ claim: … }`. */
function readCondition(node: YNode, path: string, r: Reporter): RouteCondition['claim'] | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  let claim: RouteCondition['claim'] | undefined;
  for (const { key, keyNode, value } of list) {
    if (key !== 'claim') {
      r.error(keyNode, childPath(path, key), `${unknownKeyMessage(key, ['claim'])}; a condition is { claim: NAME } or { claim: { path: [...] } }`);
      return undefined;
    }
    claim = readClaimRef(value, childPath(path, key), r);
    if (claim === undefined) return undefined;
  }
  if (claim === undefined) r.error(node, path, 'missing required key "claim"');
  return claim;
}

/** `where:` → the conditions in file order; undefined when any is invalid (each problem reported). */
export const readWhere: Reader<RouteCondition[]> = reader(CONDITION_SCHEMA, (node, path, r) => {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  if (list.length === 0) {
    r.error(node, path, 'must name at least one route parameter');
    return undefined;
  }
  const out: RouteCondition[] = [];
  let ok = true;
  for (const { key, value } of list) {
    const claim = readCondition(value, childPath(path, key), r);
    if (claim === undefined) ok = false;
    else out.push({ param: key, claim });
  }
  return ok ? out : undefined;
});

/** A condition may only name a `:param` of its own route; the error points at the parameter's key. */
export function checkWhereParams(conditions: readonly RouteCondition[], paramNames: readonly string[], routeValue: YNode, path: string, r: Reporter): boolean {
  const own = paramNames.filter((n) => n !== '*');
  let ok = true;
  for (const { param } of conditions) {
    if (own.includes(param)) continue;
    const whereNode = findValue(routeValue, 'where');
    const has = own.length === 0 ? 'the route has no parameters' : `its parameters are ${own.map((n) => `:${n}`).join(', ')}`;
    r.error(findKeyNode(whereNode, param) ?? whereNode, childPath(childPath(path, 'where'), param), `names no parameter of this route: ${has}`);
    ok = false;
  }
  return ok;
}

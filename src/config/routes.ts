/**
 * `routes:` — route keys (`METHODS PATH`) and their requirements, read into
 * RouteConfig with positions; routes the router could not tell apart are errors.
 */
import { isMap, isScalar, type Node } from 'yaml';
import { placeholderHint } from '../openapi/paths.js';
import { parseTemplate } from '../routes/template.js';
import { findRouteConflicts } from '../routes/tree.js';
import type { RouteDefinition } from '../routes/types.js';
import { bool, listOf, oneOf, reader, type JsonSchema, type Reader } from './readers.js';
import type { EnforcementMode, Requirement, RouteCondition, RouteConfig, RouteResponder } from './schema.js';
import { readScope } from './values.js';
import { checkWhereParams, readWhere } from './where.js';
import { HTTP_METHODS, type HttpMethod } from './vocabulary.js';
import { childPath, describe, entries, refuseAlias, unknownKeyMessage, type Reporter, type YNode } from './yaml-reader.js';

const REQUIREMENT_HELP = 'a scope string, { scope: s }, { auth: token }, { auth: none }, { any_of: [scopes] } or { all_of: [scopes] } (a mapping may add mode: enforce | shadow, and respond: token_info)';

/** What a route's value contributes to its RouteConfig. A new route option adds a field here and one ROUTE_KEYS entry. */
interface RouteDraft {
  requirement?: Requirement;
  mode?: EnforcementMode;
  respond?: RouteResponder;
  websocket?: boolean;
  senderConstrained?: boolean;
  where?: RouteCondition[];
}

interface RouteKeySpec {
  /** Keys in the same group are mutually exclusive; exactly one of the `requirement` group is required. */
  readonly group?: 'requirement';
  readonly read: Reader<RouteDraft>;
  /** The JSON Schema `description`. */
  readonly doc?: string;
}

/** A route key's reader: the value read by `read`, turned into its part of the route. */
function part<T>(read: Reader<T>, toDraft: (v: T) => RouteDraft): Reader<RouteDraft> {
  return reader(read.schema, (node, path, r) => {
    const v = read(node, path, r);
    return v === undefined ? undefined : toDraft(v);
  });
}

const readScopeList = listOf(readScope, { nonEmpty: true, unique: true, schema: { $ref: '#/$defs/scopeList' } });
const readMode = oneOf<EnforcementMode>(['enforce', 'shadow']);

const ROUTE_KEYS: Readonly<Record<string, RouteKeySpec>> = {
  // `{ scope: x }` is the bare-string form written as a mapping, so a one-scope route can carry options like `mode`.
  scope: {
    group: 'requirement',
    read: part(readScope, (scope) => ({ requirement: { kind: 'all_of', scopes: [scope] } })),
    doc: 'The token must carry this scope (the mapping form of a bare scope string, so options like mode can be added).',
  },
  mode: { read: part(reader({ $ref: '#/$defs/mode' }, readMode), (mode) => ({ mode })) },
  // Answered by scopegate itself (never forwarded): the caller's token, for APIs that lack a /me.
  respond: {
    read: part(oneOf(['token_info'] as const), (respond) => ({ respond })),
    doc: "scopegate answers the route itself with the caller's token (subject, client, scopes with descriptions, expiry); never forwarded.",
  },
  // WebSocket handshakes (RFC 6455 §4) are authorized like any GET, then piped both ways.
  websocket: {
    read: part(bool, (websocket) => ({ websocket })),
    doc: 'true: this GET route accepts `Upgrade: websocket` handshakes, authorized like any request, then both connections are piped until either closes.',
  },
  sender_constrained: {
    read: part(bool, (senderConstrained) => ({ senderConstrained })),
    doc: 'true: tokens without cnf (DPoP or certificate binding) are refused on this route (README, Sender-constrained tokens).',
  },
  // Object-level conditions (OWASP API1:2023): route parameters bound to claims; config/where.ts.
  where: {
    read: part(readWhere, (where) => ({ where })),
    doc: '{ PARAM: { claim: NAME | { path: [...] } } }: the decoded path parameter must equal the claim, or be one of its elements; every entry must hold, else 403 access_denied.',
  },
  auth: {
    group: 'requirement',
    read: part(oneOf(['token', 'none'] as const), (kind) => ({ requirement: { kind } })),
    doc: 'token: any valid token, no scope. none: public, no token read.',
  },
  any_of: {
    group: 'requirement',
    read: part(readScopeList, (scopes) => ({ requirement: { kind: 'any_of', scopes } })),
    doc: 'The token must carry at least one of these scopes.',
  },
  all_of: {
    group: 'requirement',
    read: part(readScopeList, (scopes) => ({ requirement: { kind: 'all_of', scopes } })),
    doc: 'The token must carry every one of these scopes.',
  },
};

function readRouteMapping(node: YNode, path: string, r: Reporter): RouteDraft | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  const draft: RouteDraft = {};
  const groupKey = new Map<string, string>();
  let ok = true;
  let unknownKey = false;
  for (const { key, keyNode, value } of list) {
    const spec = ROUTE_KEYS[key];
    const keyPath = childPath(path, key);
    if (spec === undefined) {
      r.error(keyNode, keyPath, `${unknownKeyMessage(key, Object.keys(ROUTE_KEYS))}; a route is ${REQUIREMENT_HELP}`);
      ok = false;
      unknownKey = true;
      continue;
    }
    if (spec.group !== undefined) {
      const earlier = groupKey.get(spec.group);
      if (earlier !== undefined) {
        r.error(keyNode, keyPath, `cannot be combined with ${earlier}: a route has exactly one of scope, auth, any_of, all_of`);
        ok = false;
        continue;
      }
      groupKey.set(spec.group, key);
    }
    const drafted = spec.read(value, keyPath, r);
    if (drafted === undefined) ok = false;
    else Object.assign(draft, drafted);
  }
  // After an unknown key (likely a misspelt requirement) "missing requirement" would only repeat the problem.
  if (!groupKey.has('requirement') && !unknownKey) {
    r.error(node, path, `missing requirement: must be ${REQUIREMENT_HELP}`);
    ok = false;
  }
  return ok ? draft : undefined;
}

function readRouteValue(node: YNode, path: string, r: Reporter): RouteDraft | undefined {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'string') {
    const scope = readScope(node, path, r);
    return scope === undefined ? undefined : { requirement: { kind: 'all_of', scopes: [scope] } };
  }
  if (!isMap(node)) {
    r.error(node, path, `must be ${REQUIREMENT_HELP}; got ${describe(node)}`);
    return undefined;
  }
  return readRouteMapping(node, path, r);
}

interface ParsedRouteKey {
  readonly methods: readonly HttpMethod[];
  readonly anyMethod: boolean;
  readonly path: string;
}

function parseMethods(methodText: string, errors: string[]): { methods: HttpMethod[]; anyMethod: boolean } {
  if (methodText === '*') return { methods: [...HTTP_METHODS], anyMethod: true };
  const methods: HttpMethod[] = [];
  for (const name of methodText.split(',')) {
    if (name === '') errors.push('empty method in method list');
    else if (name === '*') errors.push('* stands for every method and cannot be combined with others');
    else if (!(HTTP_METHODS as readonly string[]).includes(name)) {
      const upper = (HTTP_METHODS as readonly string[]).includes(name.toUpperCase());
      errors.push(`unknown method ${name}${upper ? ` (methods are upper-case: ${name.toUpperCase()})` : ''}`);
    } else if (methods.includes(name as HttpMethod)) errors.push(`duplicate method ${name}`);
    else methods.push(name as HttpMethod);
  }
  return { methods, anyMethod: false };
}

/** `METHODS PATH`: returns the parsed key or the problems with it. */
function parseRouteKey(key: string): ParsedRouteKey | { readonly errors: string[] } {
  const m = /^([^ ]+) +([^ ]+)$/.exec(key);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    return { errors: ['route key must be "METHODS PATH", e.g. "GET /users/:id" or "GET,POST /reports"'] };
  }
  const errors: string[] = [];
  const { methods, anyMethod } = parseMethods(m[1], errors);
  const parsed = parseTemplate(m[2]);
  if ('error' in parsed) errors.push(`${parsed.error}${placeholderHint(m[2])}`);
  if (errors.length > 0 || 'error' in parsed) return { errors };
  return { methods, anyMethod, path: parsed.template };
}

/** The `:param` names of a canonical template (already parsed once without error). */
function templateParams(template: string): readonly string[] {
  const parsed = parseTemplate(template);
  return 'error' in parsed ? [] : parsed.paramNames;
}

/** Routes that the router cannot tell apart are errors at the later one, naming the earlier by its line. */
function reportConflicts(routes: readonly RouteConfig[], keyNodes: readonly Node[], path: string, r: Reporter): boolean {
  const defs: Array<RouteDefinition<number>> = routes.map((rt, i) => ({ template: rt.path, methods: rt.methods, data: i }));
  let ok = true;
  for (const c of findRouteConflicts(defs)) {
    const later = routes[c.index];
    const earlier = routes[c.otherIndex];
    if (later === undefined || earlier === undefined) continue;
    // Our own wording: the router's message numbers routes by array index, which means nothing in a YAML file.
    const shared = later.methods.filter((m) => earlier.methods.includes(m)).join(',');
    r.error(
      keyNodes[c.index],
      childPath(path, later.key),
      `cannot be told apart from ${JSON.stringify(earlier.key)} (line ${earlier.position.line}): same path shape, both serve ${shared}`,
    );
    ok = false;
  }
  return ok;
}

/** `routes:` → every route in file order, or undefined when any is invalid (each problem reported). */
export function readRoutes(node: YNode, path: string, r: Reporter, file: string): RouteConfig[] | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  if (isMap(node) && node.items.length === 0) {
    r.error(node, path, 'must map at least one route: with no routes every request is denied');
    return undefined;
  }
  const routes: RouteConfig[] = [];
  const keyNodes: Node[] = [];
  let ok = true;
  for (const { key, keyNode, value } of list) {
    const keyPath = childPath(path, key);
    const parsed = parseRouteKey(key);
    if ('errors' in parsed) for (const e of parsed.errors) r.error(keyNode, keyPath, e);
    const draft = readRouteValue(value, keyPath, r);
    if ('errors' in parsed || draft?.requirement === undefined) {
      ok = false;
      continue;
    }
    if (draft.respond !== undefined) {
      if (draft.requirement.kind === 'none') r.error(value, keyPath, `respond: ${draft.respond} describes the caller's token, so the route cannot be { auth: none }`);
      if (parsed.methods.some((m) => m !== 'GET' && m !== 'HEAD')) r.error(keyNode, keyPath, `respond: ${draft.respond} answers GET (and HEAD) only`);
    }
    const websocket = draft.websocket === true;
    if (websocket && (draft.respond !== undefined || parsed.methods.some((m) => m !== 'GET' && m !== 'HEAD'))) {
      r.error(keyNode, keyPath, 'websocket: true needs a GET route that scopegate forwards (the handshake is a GET, RFC 6455 §4.1)');
    }
    if (draft.senderConstrained === true && draft.requirement.kind === 'none') r.error(value, keyPath, 'sender_constrained: true needs a token, so the route cannot be { auth: none }');
    const sender = draft.senderConstrained === undefined ? {} : { senderConstrained: draft.senderConstrained };
    const where = draft.where === undefined ? {} : { where: draft.where };
    if (draft.where !== undefined && !checkWhereParams(draft.where, templateParams(parsed.path), value, keyPath, r)) ok = false;
    if (draft.where !== undefined && draft.requirement.kind === 'none') r.error(value, keyPath, 'where: needs a token to read claims from, so the route cannot be { auth: none }');
    routes.push({ key, ...parsed, requirement: draft.requirement, mode: draft.mode, respond: draft.respond, ...(websocket ? { websocket } : {}), ...sender, ...where, position: { file, ...r.position(keyNode) } });
    keyNodes.push(keyNode);
  }
  return reportConflicts(routes, keyNodes, path, r) && ok ? routes : undefined;
}

// ───────────────────────────── JSON Schema ─────────────────────────────

export const ROUTES_DOC =
  '`METHODS PATH: requirement`. METHODS: one method, a comma list without spaces, or * (quote keys starting with *). PATH: literals, `:name` segments, an optional final `*`. Static beats :param beats *; routes that cannot be told apart are an error.';

const METHOD = `(?:${HTTP_METHODS.join('|')})`;

export const ROUTES_SCHEMA: JsonSchema = {
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: `^(?:\\*|${METHOD}(?:,${METHOD})*) +/[^ ]*$` },
  additionalProperties: { $ref: '#/$defs/requirement' },
};

function keySchema(spec: RouteKeySpec): JsonSchema {
  return { ...spec.read.schema, ...(spec.doc === undefined ? {} : { description: spec.doc }) };
}

/** `#/$defs/requirement` and what it refers to: one branch per requirement key, each with the route options. */
export const ROUTE_DEFS: Readonly<Record<string, JsonSchema>> = {
  scopeList: listOf(readScope, { nonEmpty: true, unique: true }).schema,
  requirement: {
    oneOf: [
      { $ref: '#/$defs/scope', description: 'The token must carry this scope.' },
      ...Object.entries(ROUTE_KEYS)
        .filter(([, spec]) => spec.group === 'requirement')
        .map(([key, spec]) => ({
          type: 'object',
          additionalProperties: false,
          required: [key],
          properties: {
            [key]: keySchema(spec),
            ...Object.fromEntries(Object.entries(ROUTE_KEYS).filter(([, s]) => s.group === undefined).map(([k, s]) => [k, keySchema(s)])),
          },
        })),
    ],
  },
  mode: { description: 'Per-route override of the global mode.', ...readMode.schema },
};

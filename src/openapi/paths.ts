/**
 * OpenAPI paths and servers → scopegate route templates.
 *
 * An OpenAPI path is `/literal/{param}/...` (§4.8.8 Paths Object); a scopegate
 * template is `/literal/:param/...` where `:param` matches exactly one whole,
 * non-empty segment and a literal `*` or leading `:` means something else
 * (routes/template.ts). Anything that cannot be carried over exactly is refused
 * with a reason, never approximated: a looser template would authorize paths
 * the spec never described.
 */
import { parseTemplate, templateShape } from '../routes/template.js';
import { isObject, oneLine, quote, stringField } from './spec.js';

export type TemplateResult =
  | { readonly template: string; readonly shape: string }
  | { readonly reason: string };

const WHOLE_PARAM = /^\{([^{}]+)\}$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Why a literal segment cannot be a scopegate literal, or undefined when it can.
 * `*` is scopegate's wildcard and a leading `:` its parameter marker, so a
 * literal containing either would silently widen what the route matches.
 */
function literalProblem(seg: string): string | undefined {
  if (seg.includes('{') || seg.includes('}')) {
    return `the path parameter in ${JSON.stringify(seg)} is not a whole segment (scopegate's :name matches exactly one whole segment)`;
  }
  if (seg.startsWith(':')) return `the literal segment ${JSON.stringify(seg)} starts with ":", which scopegate reads as a parameter`;
  if (seg.includes('*')) return `the literal segment ${JSON.stringify(seg)} contains "*", scopegate's wildcard`;
  return undefined;
}

/** `{pet-id}` → `pet_id`: scopegate parameter names are identifiers. Names never affect matching, only readability. */
function paramName(raw: string, taken: Set<string>): string {
  let name = raw.replace(/[^A-Za-z0-9_]/g, '_');
  if (!PARAM_NAME.test(name)) name = `_${name}`;
  let unique = name;
  for (let i = 2; taken.has(unique); i++) unique = `${name}_${i}`;
  taken.add(unique);
  return unique;
}

/**
 * `basePath` (from the server URL, '' or `/v3`, no trailing slash) + an OpenAPI
 * path → a canonical scopegate template and its shape (equal shapes cannot be
 * told apart by the router), or the reason it cannot be expressed.
 */
export function toRouteTemplate(basePath: string, openApiPath: string): TemplateResult {
  if (!openApiPath.startsWith('/')) return { reason: 'the path does not start with "/"' };
  const taken = new Set<string>();
  const out: string[] = [];
  for (const seg of openApiPath.slice(1).split('/')) {
    const param = WHOLE_PARAM.exec(seg);
    if (param !== null) {
      out.push(`:${paramName(param[1] as string, taken)}`);
      continue;
    }
    const problem = literalProblem(seg);
    if (problem !== undefined) return { reason: problem };
    out.push(seg);
  }
  const parsed = parseTemplate(`${basePath}/${out.join('/')}`);
  if ('error' in parsed) return { reason: parsed.error };
  return { template: parsed.template, shape: templateShape(parsed) };
}

export interface ServerBase {
  /** `scheme://host[:port]` when servers[0].url is an absolute http(s) URL. */
  readonly origin: string | undefined;
  /** '' or `/path` without a trailing slash: what every route is prefixed with. */
  readonly basePath: string;
  /** servers[0].url with its variables substituted, for comments. */
  readonly url: string | undefined;
  readonly warnings: readonly string[];
}

const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * The first Server Object (§4.8.5): its origin (for upstream.url) and its path
 * (the base path). Variables take their `default`. OpenAPI's default server is
 * `/`, so a document without servers has no base path.
 */
export function readServer(servers: unknown): ServerBase {
  const none = (warnings: string[] = [], url?: string): ServerBase => ({ origin: undefined, basePath: '', url, warnings });
  if (servers === undefined) return none();
  if (!Array.isArray(servers)) return none(['"servers" is not a list: ignored']);
  const first: unknown = servers[0];
  if (first === undefined) return none();
  if (!isObject(first) || typeof first.url !== 'string') return none(['servers[0] has no "url": ignored']);

  const warnings: string[] = [];
  const vars = isObject(first.variables) ? first.variables : {};
  let missing: string | undefined;
  const url = first.url.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
    const v = vars[name];
    const def = isObject(v) ? stringField(v, 'default') : undefined;
    if (def === undefined) missing ??= name;
    return def ?? whole;
  });
  if (missing !== undefined) {
    return none([`servers[0].url ${quote(first.url)}: variable {${oneLine(missing)}} has no default; the server URL is ignored (no base path, placeholder upstream)`]);
  }

  let parsed: URL;
  let origin: string | undefined;
  try {
    if (ABSOLUTE_URL.test(url)) {
      parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') origin = parsed.origin;
      else warnings.push(`servers[0].url ${quote(url)} is not http(s): upstream.url is a placeholder`);
    } else {
      // Relative to wherever the document is served from (§4.8.5): only its path is known.
      parsed = new URL(url, 'http://relative.invalid/');
    }
  } catch {
    return none([`servers[0].url ${quote(url)} is not a valid URL: ignored`], url);
  }
  const basePath = parsed.pathname.replace(/\/+$/, '');
  if (basePath === '') return { origin, basePath, url, warnings };
  for (const seg of basePath.slice(1).split('/')) {
    const problem = literalProblem(seg);
    if (problem !== undefined) return { origin, basePath: '', url, warnings: [...warnings, `servers[0].url base path ${JSON.stringify(basePath)}: ${problem}; not prepended to routes`] };
  }
  const check = parseTemplate(basePath);
  if ('error' in check) return { origin, basePath: '', url, warnings: [...warnings, `servers[0].url base path: ${check.error}; not prepended to routes`] };
  return { origin, basePath: check.template, url, warnings };
}

/**
 * For a route written with OpenAPI's `{param}` (which the loader refuses: `{` is not a
 * path character): what to write instead, as text to append to the loader's error.
 * '' when the path has no `{`.
 */
export function placeholderHint(path: string): string {
  if (!path.includes('{')) return '';
  const converted = toRouteTemplate('', path);
  return 'reason' in converted
    ? '; scopegate writes a path parameter as a whole segment :name, not {name}'
    : `; scopegate writes path parameters as :name: did you mean ${JSON.stringify(converted.template)}?`;
}

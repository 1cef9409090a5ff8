/**
 * Route template syntax: `/literal/:name/*`. A template is canonicalized by the
 * same function as request paths, so a literal written `%7Euser` or `a/./b`
 * matches the request paths that canonicalize to it.
 */
import { PathError } from '../errors.js';
import { canonicalizePath } from './normalize.js';

export type TemplateSegment =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface ParsedTemplate {
  /** Canonical template text, e.g. `/a/:id/*`. */
  readonly template: string;
  /**
   * One entry per `/`-separated segment after the leading `/`: `/` is one empty
   * static segment and `/a/` is `a` then an empty static segment, so a trailing
   * slash is significant.
   */
  readonly segments: readonly TemplateSegment[];
  /** `:param` names in order, then `*` if the template ends with a wildcard (as MatchFound.paramNames). */
  readonly paramNames: readonly string[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse a path template (already canonical or not): returns the parsed form or a human message. */
export function parseTemplate(path: string): ParsedTemplate | { readonly error: string } {
  const canonical = canonicalizePath(path);
  if (canonical instanceof PathError) return { error: `invalid path ${JSON.stringify(path)}: ${canonical.message} (${canonical.code})` };
  const raw = canonical.slice(1).split('/');
  const segments: TemplateSegment[] = [];
  const paramNames: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const seg = raw[i] as string;
    if (seg.includes('*')) {
      if (seg !== '*') return { error: `"*" must be a whole segment: ${JSON.stringify(seg)}` };
      if (i !== raw.length - 1) return { error: '"*" must be the last segment' };
      segments.push(WILDCARD);
      paramNames.push('*');
    } else if (seg.startsWith(':')) {
      const name = seg.slice(1);
      if (name === '') return { error: '":" must be followed by a parameter name' };
      if (!PARAM_NAME.test(name)) return { error: `bad parameter name ${JSON.stringify(name)}: use letters, digits and "_", not starting with a digit` };
      if (paramNames.includes(name)) return { error: `duplicate parameter name ":${name}"` };
      segments.push(Object.freeze({ kind: 'param', name }));
      paramNames.push(name);
    } else {
      segments.push(Object.freeze({ kind: 'static', value: seg }));
    }
  }
  return Object.freeze({ template: canonical, segments: Object.freeze(segments), paramNames: Object.freeze(paramNames) });
}

const WILDCARD: TemplateSegment = Object.freeze({ kind: 'wildcard' });

/** The shape of a template: equal for templates no request can tell apart (param names do not count). */
export function templateShape(t: ParsedTemplate): string {
  // Static values never contain `/`, never start with `:` and never contain `*`, so the key is unambiguous.
  return t.segments.map((s) => (s.kind === 'static' ? s.value : s.kind === 'param' ? ':' : '*')).join('/');
}

// CONTRACT STUB — owned by the routes helper, who replaces the bodies.
export type TemplateSegment =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface ParsedTemplate {
  /** Canonical template text, e.g. `/a/:id/*`. */
  readonly template: string;
  readonly segments: readonly TemplateSegment[];
  readonly paramNames: readonly string[];
}

/** Parse a path template (already canonical or not): returns the parsed form or a human message. */
export function parseTemplate(path: string): ParsedTemplate | { readonly error: string } {
  void path;
  return { error: 'not implemented' };
}

/**
 * Reading an OpenAPI document as untrusted data: type guards, local `$ref`
 * resolution, and text that is safe to put in a YAML comment.
 *
 * Nothing here trusts the document's shape: every field is checked before use,
 * and a field of the wrong type is treated as absent by the caller (with a
 * warning where it changes what is enforced).
 */

export type JsonObject = { readonly [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function stringField(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

/** Longest `$ref` chain followed before giving up (a cycle, or a document built to make us spin). */
const MAX_REF_HOPS = 16;

/**
 * Follows local references (`#/components/...`, RFC 6901 JSON pointers) until a
 * non-reference value. Returns `{ error }` for an external or dangling reference
 * or a cycle; scopegate never fetches anything while importing.
 */
export function resolveRef(root: unknown, value: unknown): { value: unknown } | { error: string } {
  let current = value;
  for (let hop = 0; hop <= MAX_REF_HOPS; hop++) {
    if (!isObject(current) || typeof current.$ref !== 'string') return { value: current };
    const ref = current.$ref;
    if (!ref.startsWith('#')) return { error: `external reference ${JSON.stringify(ref)} is not followed (only #/... references inside the document are)` };
    const target = jsonPointer(root, ref.slice(1));
    if (target === undefined) return { error: `reference ${JSON.stringify(ref)} points at nothing in the document` };
    current = target;
  }
  return { error: `reference chain longer than ${MAX_REF_HOPS} hops (a cycle?)` };
}

function jsonPointer(root: unknown, fragment: string): unknown {
  let decoded: string;
  try {
    decoded = decodeURIComponent(fragment);
  } catch {
    return undefined;
  }
  if (decoded === '') return root;
  if (!decoded.startsWith('/')) return undefined;
  let node = root;
  for (const raw of decoded.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(key)) return undefined;
      node = node[Number(key)];
    } else if (isObject(node) && Object.hasOwn(node, key)) {
      node = node[key];
    } else {
      return undefined;
    }
  }
  return node;
}

/** Longest piece of spec text copied into a comment or warning. */
const MAX_QUOTED = 200;

/**
 * Spec text (a title, a description, a URL) made safe for one comment line:
 * every control or line-separator character becomes a space, so nothing the
 * spec says can end the comment and start YAML of its own; long text is cut.
 */
export function oneLine(s: string, max = MAX_QUOTED): string {
  // C0, DEL, C1 (includes NEL U+0085), and U+2028/U+2029: anything some reader might take as a line break.
  const flat = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Spec text quoted for a message: JSON string syntax shows blanks and escapes line breaks; then made one line. */
export function quote(s: string, max = MAX_QUOTED): string {
  return oneLine(JSON.stringify(s), max);
}

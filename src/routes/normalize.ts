/**
 * The one path canonicalizer: route templates and request targets go through
 * the same code, so what is matched, what is authorized and what is forwarded
 * are the same string (docs/architecture.md, Rules every module keeps: never match one parse and forward another).
 *
 * Policy: decode only what cannot change meaning (unreserved characters),
 * remove dot segments, and reject — never "repair" — anything that two
 * parsers could read differently (encoded separators, `//`, `;`, backslashes,
 * malformed or non-UTF-8 percent-encoding, control characters).
 */
import { PathError, type PathErrorCode } from '../errors.js';

export interface CanonicalTarget {
  /** Canonical path: what is matched and what is forwarded. */
  readonly path: string;
  /** The raw query including its leading `?`, or '' — never modified. */
  readonly query: string;
}

export interface PathLimits {
  /** Bytes of the whole request target. */
  readonly maxTargetBytes: number;
  /** Segments of the canonical path. */
  readonly maxSegments: number;
}

// Denials are expected on this path (scanners, attacks), so they must be cheap:
// one frozen PathError per code, built once. Constructing an Error captures a
// stack trace, which costs more than canonicalizing the path itself.
function frozenError(code: PathErrorCode, message: string): PathError {
  return Object.freeze(new PathError(code, message));
}

/** The PathError returned for each code (shared, frozen: compare by `code`). */
export const PATH_ERRORS: Readonly<Record<PathErrorCode, PathError>> = Object.freeze({
  ERR_PATH_EMPTY: frozenError('ERR_PATH_EMPTY', 'empty request target'),
  ERR_PATH_NOT_ORIGIN_FORM: frozenError('ERR_PATH_NOT_ORIGIN_FORM', 'request target must be origin-form (start with "/")'),
  ERR_PATH_ENCODED_SEPARATOR: frozenError('ERR_PATH_ENCODED_SEPARATOR', 'encoded or double-encoded "/", "\\", ";" or "." in path'),
  ERR_PATH_BACKSLASH: frozenError('ERR_PATH_BACKSLASH', 'backslash in path'),
  ERR_PATH_CONTROL_CHAR: frozenError('ERR_PATH_CONTROL_CHAR', 'control character, space or non-ASCII byte in path'),
  ERR_PATH_BAD_PERCENT: frozenError('ERR_PATH_BAD_PERCENT', 'malformed percent-encoding or percent-encoded bytes that are not UTF-8'),
  ERR_PATH_PARAMETER: frozenError('ERR_PATH_PARAMETER', '";" path parameters (raw or percent-encoded) are not accepted'),
  ERR_PATH_TRAVERSAL: frozenError('ERR_PATH_TRAVERSAL', '".." climbs above the root'),
  ERR_PATH_FRAGMENT: frozenError('ERR_PATH_FRAGMENT', '"#" fragment in request target'),
  ERR_PATH_TOO_LONG: frozenError('ERR_PATH_TOO_LONG', 'request target too long or too many segments'),
  ERR_PATH_EMPTY_SEGMENT: frozenError('ERR_PATH_EMPTY_SEGMENT', 'empty path segment ("//")'),
  ERR_PATH_INVALID_CHAR: frozenError('ERR_PATH_INVALID_CHAR', 'character not allowed in a path'),
});

// Character classes for a raw path, indexed by char code (< 0x80).
const K_OK = 0; // RFC 3986 pchar except `%` (unreserved, sub-delims minus `;`, `:`, `@`)
const K_SLASH = 1;
const K_PCT = 2;
const K_QUERY = 3;
const K_CTRL = 4;
const K_BACKSLASH = 5;
const K_SEMI = 6;
const K_HASH = 7;
const K_INVALID = 8;

const CLASS = buildClassTable();
function buildClassTable(): Uint8Array {
  const t = new Uint8Array(128).fill(K_INVALID);
  const ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@";
  for (let i = 0; i < ok.length; i++) t[ok.charCodeAt(i)] = K_OK;
  for (let c = 0; c <= 0x20; c++) t[c] = K_CTRL;
  t[0x7f] = K_CTRL;
  t[0x2f] = K_SLASH;
  t[0x25] = K_PCT;
  t[0x3f] = K_QUERY;
  t[0x5c] = K_BACKSLASH;
  t[0x3b] = K_SEMI;
  t[0x23] = K_HASH;
  return t;
}

const ERROR_FOR_CLASS: readonly (PathError | undefined)[] = [
  undefined, undefined, undefined,
  PATH_ERRORS.ERR_PATH_INVALID_CHAR, // `?` where no query is allowed (templates)
  PATH_ERRORS.ERR_PATH_CONTROL_CHAR,
  PATH_ERRORS.ERR_PATH_BACKSLASH,
  PATH_ERRORS.ERR_PATH_PARAMETER,
  PATH_ERRORS.ERR_PATH_FRAGMENT,
  PATH_ERRORS.ERR_PATH_INVALID_CHAR,
];

const UNRESERVED = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[ch.charCodeAt(0)] = 1;

const HEX_DIGITS = '0123456789ABCDEF';
const DOT = 0x2e;

/** Value of one hex digit (either case), or -1. Shared with the query-parameter scan in auth/bearer.ts. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII letters: fold to lower case
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** `s[from, from+n)` is `.` or `..` (n is 1 or 2). */
function isDotSegment(s: string, from: number, n: number): boolean {
  return s.charCodeAt(from) === DOT && (n === 1 || s.charCodeAt(from + 1) === DOT);
}

/** Request target (origin-form, as in req.url) → canonical path + raw query, or a PathError (returned, not thrown). */
export function canonicalizeTarget(target: string, limits?: PathLimits): CanonicalTarget | PathError {
  return canonicalize(target, true, limits);
}

/** A path without query (route templates use this) → canonical path, or a PathError (returned, not thrown). */
export function canonicalizePath(path: string): string | PathError {
  const r = canonicalize(path, false, undefined);
  return r instanceof PathError ? r : r.path;
}

function canonicalize(target: string, allowQuery: boolean, limits: PathLimits | undefined): CanonicalTarget | PathError {
  const len = target.length;
  if (len === 0) return PATH_ERRORS.ERR_PATH_EMPTY;
  // Covers `*` (OPTIONS *), absolute-form (`http://h/p`) and authority-form (`h:443`).
  if (target.charCodeAt(0) !== 0x2f) return PATH_ERRORS.ERR_PATH_NOT_ORIGIN_FORM;
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so the exact count is only needed near the limit.
  if (limits !== undefined && len > limits.maxTargetBytes / 3 &&
      (len > limits.maxTargetBytes || Buffer.byteLength(target, 'utf8') > limits.maxTargetBytes)) {
    return PATH_ERRORS.ERR_PATH_TOO_LONG;
  }

  // One scan: validate characters, find the end of the path, and note whether
  // anything (percent-encoding, a dot segment) needs the slow path.
  let slow = false;
  let segStart = 1;
  let segments = 1;
  let i = 1;
  for (; i < len; i++) {
    const c = target.charCodeAt(i);
    if (c >= 0x80) return PATH_ERRORS.ERR_PATH_CONTROL_CHAR;
    const k = CLASS[c];
    if (k === K_OK) continue;
    if (k === K_SLASH) {
      const n = i - segStart;
      if (n === 0) return PATH_ERRORS.ERR_PATH_EMPTY_SEGMENT;
      if (n <= 2 && isDotSegment(target, segStart, n)) slow = true;
      segStart = i + 1;
      segments++;
      continue;
    }
    if (k === K_PCT) {
      slow = true;
      continue;
    }
    if (k === K_QUERY && allowQuery) break;
    // Every other class is a rejection; the table has no undefined entry past K_QUERY.
    return ERROR_FOR_CLASS[k as number] as PathError;
  }
  const end = i;
  const lastLen = end - segStart;
  if (lastLen > 0 && lastLen <= 2 && isDotSegment(target, segStart, lastLen)) slow = true;

  let query = '';
  if (end < len) {
    // The query is forwarded untouched, but a fragment never belongs in a request target.
    if (target.indexOf('#', end) !== -1) return PATH_ERRORS.ERR_PATH_FRAGMENT;
    query = target.slice(end);
  }

  let path: string;
  if (!slow) {
    path = end === len ? target : target.slice(0, end);
  } else {
    const r = slowPath(target, end);
    if (typeof r !== 'string') return r;
    path = r;
    if (limits !== undefined) {
      segments = 0;
      for (let j = 0; j < path.length; j++) if (path.charCodeAt(j) === 0x2f) segments++;
    }
  }
  if (limits !== undefined && segments > limits.maxSegments) return PATH_ERRORS.ERR_PATH_TOO_LONG;
  return { path, query };
}

/**
 * Percent-normalization and dot-segment removal (RFC 3986 §6.2.2, §5.2.4) for
 * a path whose characters the scan already validated and which has no empty
 * interior segment.
 */
function slowPath(s: string, end: number): string | PathError {
  const out: string[] = [];
  let start = 1;
  for (;;) {
    let stop = s.indexOf('/', start);
    if (stop === -1 || stop > end) stop = end;
    const last = stop === end;
    let seg: string | PathError = s.slice(start, stop);
    if (seg.indexOf('%') !== -1) {
      seg = decodeSegment(seg);
      if (typeof seg !== 'string') return seg;
    }
    if (seg === '.' || seg === '..') {
      if (seg === '..') {
        // Clamping at the root would authorize one path while the client meant another.
        if (out.length === 0) return PATH_ERRORS.ERR_PATH_TRAVERSAL;
        out.pop();
      }
      // A final dot segment leaves a directory: `/a/.` → `/a/`, `/a/b/..` → `/a/`.
      if (last) out.push('');
    } else {
      out.push(seg);
    }
    if (last) break;
    start = stop + 1;
  }
  return out.length === 0 ? '/' : '/' + out.join('/');
}

/** Decode unreserved, upper-case the hex of everything else, validate UTF-8. */
function decodeSegment(seg: string): string | PathError {
  const n = seg.length;
  let out = '';
  let copied = 0;
  for (let i = 0; i < n; i++) {
    if (seg.charCodeAt(i) !== 0x25) continue;
    const b = percentByte(seg, i);
    if (b < 0) return PATH_ERRORS.ERR_PATH_BAD_PERCENT;
    out += seg.slice(copied, i);
    if (b < 0x80) {
      if (UNRESERVED[b] === 1) {
        out += String.fromCharCode(b);
      } else if (b === 0x2f || b === 0x5c) {
        return PATH_ERRORS.ERR_PATH_ENCODED_SEPARATOR;
      } else if (b === 0x3b) {
        // `%3B`: an upstream that decodes before stripping path parameters (Shiro
        // CVE-2020-1957 / CVE-2020-13933 style) turns `/public/..%3B/admin` into
        // `/public/..;/admin` → `/public/../admin` → `/admin`, which we authorized as `/public/*`.
        return PATH_ERRORS.ERR_PATH_PARAMETER;
      } else if (b < 0x20 || b === 0x7f) {
        // An upstream that decodes would see NUL (truncation in C code) or CR/LF (log and header injection).
        return PATH_ERRORS.ERR_PATH_CONTROL_CHAR;
      } else {
        out += '%' + HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15];
      }
      i += 2;
    } else {
      // RFC 3629 §4: the lead byte fixes the length and the range of the first continuation byte,
      // which excludes overlong forms (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and > U+10FFFF.
      let more: number;
      let lo = 0x80;
      let hi = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) more = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        more = 2;
        if (b === 0xe0) lo = 0xa0;
        else if (b === 0xed) hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        more = 3;
        if (b === 0xf0) lo = 0x90;
        else if (b === 0xf4) hi = 0x8f;
      } else return PATH_ERRORS.ERR_PATH_BAD_PERCENT;
      out += '%' + HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15];
      i += 2;
      for (let k = 0; k < more; k++) {
        if (seg.charCodeAt(i + 1) !== 0x25) return PATH_ERRORS.ERR_PATH_BAD_PERCENT;
        const cb = percentByte(seg, i + 1);
        if (cb < lo || cb > hi) return PATH_ERRORS.ERR_PATH_BAD_PERCENT;
        out += '%' + HEX_DIGITS[cb >> 4] + HEX_DIGITS[cb & 15];
        lo = 0x80;
        hi = 0xbf;
        i += 3;
      }
    }
    copied = i + 1;
  }
  out += seg.slice(copied);
  // Checked on the output, so `%25%32%46` (which decodes to `%252F`) is caught too.
  if (hasDoubleEncodedSeparator(out)) return PATH_ERRORS.ERR_PATH_ENCODED_SEPARATOR;
  return out;
}

/** The byte of the `%XX` at `i`, or -1 when malformed. */
function percentByte(s: string, i: number): number {
  if (i + 2 >= s.length) return -1;
  const h = hexValue(s.charCodeAt(i + 1));
  const l = hexValue(s.charCodeAt(i + 2));
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

/** `%252F`, `%255C`, `%252E`, `%253B` in any case: an upstream that decodes twice would see a separator, dot or `;`. */
function hasDoubleEncodedSeparator(s: string): boolean {
  let i = s.indexOf('%25');
  while (i !== -1) {
    const d = s.charCodeAt(i + 3);
    const c = s.charCodeAt(i + 4) | 0x20;
    if (d === 0x32) {
      if (c === 0x66 || c === 0x65) return true; // 2F, 2E
    } else if (d === 0x35 && c === 0x63) {
      return true; // 5C
    } else if (d === 0x33 && c === 0x62) {
      return true; // 3B
    }
    i = s.indexOf('%25', i + 3);
  }
  return false;
}

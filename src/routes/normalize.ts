// CONTRACT STUB — owned by the routes helper, who replaces the bodies.
import { PathError } from '../errors.js';

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

/** Request target (origin-form, as in req.url) → canonical path + raw query, or a PathError (returned, not thrown). */
export function canonicalizeTarget(target: string, limits?: PathLimits): CanonicalTarget | PathError {
  void target; void limits;
  return new PathError('ERR_PATH_EMPTY', 'not implemented');
}

/** A path without query (route templates use this) → canonical path, or a PathError (returned, not thrown). */
export function canonicalizePath(path: string): string | PathError {
  void path;
  return new PathError('ERR_PATH_EMPTY', 'not implemented');
}

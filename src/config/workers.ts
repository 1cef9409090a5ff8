/**
 * `workers: N | auto` (README, "Workers"): how many processes serve the
 * listeners. Read here as written; `auto` is resolved to a count only when
 * `serve` starts (server/cpu-count.ts), so `check` on a laptop says nothing
 * about the cores of the machine that will run it.
 */
import { isScalar } from 'yaml';
import { int, reader, type Reader } from './readers.js';
import { describe, refuseAlias } from './yaml-reader.js';

/** A fixed number of worker processes, or `auto`: the cores this container may use. */
export type WorkerCount = number | 'auto';

/** More processes than this is a typo, not a deployment: each is a full Node heap. */
export const MAX_WORKERS = 256;

const count = int([1, MAX_WORKERS]);

export const readWorkers: Reader<WorkerCount> = reader({ anyOf: [count.schema, { const: 'auto' }] }, (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'string') {
    if (node.value === 'auto') return 'auto';
    r.error(node, path, `must be an integer between 1 and ${MAX_WORKERS} or auto, got ${describe(node)}`);
    return undefined;
  }
  return count(node, path, r);
});

/**
 * What the sidecar injection changed in a workload: the injected Deployment/StatefulSet minus
 * everything the injection is allowed to add must equal the workload as the user wrote it, and
 * the user's containers must be byte-for-byte the same objects, in the same order.
 */
import { isDeepStrictEqual } from 'node:util';

export const SIDECAR = 'scopegate';
export const CONFIG_VOLUME = 'scopegate-config';
export const SIDECAR_LABEL = 'scopegate.io/sidecar';
export const CHECKSUM_ANNOTATION = 'checksum/scopegate-config';

/** JSON paths at which a and b differ (a missing key and an extra key both count). */
export function diffPaths(a, b, path = '') {
  if (isDeepStrictEqual(a, b)) return [];
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return [path || '/'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => diffPaths(a[k], b[k], `${path}/${k}`));
}

/** The rendered workload with the injection's additions taken out again. */
export function withoutInjection(original, rendered) {
  const out = structuredClone(rendered);
  const meta = out.spec?.template?.metadata ?? {};
  const pod = out.spec?.template?.spec ?? {};
  const origPod = original.spec?.template?.spec ?? {};
  const origMeta = original.spec?.template?.metadata ?? {};
  pod.containers = (pod.containers ?? []).filter((c) => c.name !== SIDECAR);
  pod.volumes = (pod.volumes ?? []).filter((v) => v.name !== CONFIG_VOLUME);
  if (pod.volumes.length === 0 && origPod.volumes === undefined) delete pod.volumes;
  for (const [key, name] of [['labels', SIDECAR_LABEL], ['annotations', CHECKSUM_ANNOTATION]]) {
    if (meta[key]) delete meta[key][name];
    if (meta[key] && Object.keys(meta[key]).length === 0 && origMeta[key] === undefined) delete meta[key];
  }
  // The grace period may only be raised, never lowered.
  const before = origPod.terminationGracePeriodSeconds ?? 30;
  if ((pod.terminationGracePeriodSeconds ?? 30) >= before) {
    if (origPod.terminationGracePeriodSeconds === undefined) delete pod.terminationGracePeriodSeconds;
    else pod.terminationGracePeriodSeconds = origPod.terminationGracePeriodSeconds;
  }
  return out;
}

/**
 * { apiContainersSame, extra }: whether the user's containers are unchanged (same list, same
 * order, same fields), and every path where the workload differs beyond the allowed additions.
 */
export function injectionDiff(original, rendered) {
  const userContainers = (rendered.spec?.template?.spec?.containers ?? []).filter((c) => c.name !== SIDECAR);
  return {
    apiContainersSame: isDeepStrictEqual(userContainers, original.spec?.template?.spec?.containers),
    extra: diffPaths(original, withoutInjection(original, rendered)),
  };
}

/**
 * `workers: auto` → a process count: the CPUs this process may run on
 * (os.availableParallelism(), which honours the affinity mask), capped by the
 * container's CPU quota when cgroups set one. A pod limited to 2 CPUs on a
 * 64-core node gets 2 workers, not 64 processes time-sliced into 2 CPUs' worth.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { WorkerCount } from '../config/workers.js';

/** cgroup v2: "max 100000" (no quota) or "<quota> <period>" in µs. */
const CGROUP_V2_CPU_MAX = '/sys/fs/cgroup/cpu.max';
/** cgroup v1: quota -1 means none. */
const CGROUP_V1_QUOTA = '/sys/fs/cgroup/cpu/cpu.cfs_quota_us';
const CGROUP_V1_PERIOD = '/sys/fs/cgroup/cpu/cpu.cfs_period_us';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** CPUs the quota allows, rounded up (1.5 CPUs → 2 workers), or undefined without a quota. */
export function cgroupCpuLimit(read: (file: string) => string | undefined = readText): number | undefined {
  const v2 = read(CGROUP_V2_CPU_MAX);
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    return quotaCpus(Number(quota), Number(period));
  }
  return quotaCpus(Number(read(CGROUP_V1_QUOTA)), Number(read(CGROUP_V1_PERIOD)));
}

function quotaCpus(quota: number, period: number): number | undefined {
  // "max", -1, a missing file (NaN) or a zero period: no quota.
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.ceil(quota / period));
}

/** The number of processes `workers` asks for on this machine. */
export function resolveWorkers(setting: WorkerCount, read?: (file: string) => string | undefined): number {
  if (setting !== 'auto') return setting;
  const cpus = availableParallelism();
  return Math.max(1, Math.min(cpus, cgroupCpuLimit(read) ?? cpus));
}

/** `workers: N | auto`: what the loader accepts, and what `auto` resolves to under a cgroup CPU quota. */
import { availableParallelism } from 'node:os';
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { formatConfigIssue } from '../../../src/errors.js';
import { cgroupCpuLimit, resolveWorkers } from '../../../src/server/cpu-count.js';
import { testConfigYaml } from '../../helpers/config.js';

function read(extra: string): { workers?: unknown; errors: string[] } {
  const yaml = testConfigYaml({ issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks.json', routes: ['GET /a: a:read'], extra });
  const { config, issues } = loadConfigText(yaml, 'test.yaml');
  return { workers: config?.workers, errors: issues.filter((i) => i.severity === 'error').map(formatConfigIssue) };
}

t.test('the loader', async (t) => {
  t.equal(read('').workers, 1, 'default 1');
  t.equal(read('workers: 4').workers, 4);
  t.equal(read('workers: auto').workers, 'auto');
  for (const bad of ['0', '257', '-1', '1.5', 'many', 'true', '[2]']) {
    const r = read(`workers: ${bad}`);
    t.equal(r.workers, undefined, `workers: ${bad} refused`);
    t.match(r.errors.join('\n'), /workers/, `the error names workers (${bad})`);
  }
});

t.test('auto', async (t) => {
  const files = (map: Record<string, string>) => (file: string) => map[file];
  const cpus = availableParallelism();
  t.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' })), undefined, 'v2 without quota');
  t.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' })), 2, 'v2: 1.5 CPUs rounds up to 2');
  t.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' })), 1, 'v2: half a CPU is one worker');
  t.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), undefined, 'v1 without quota');
  t.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), 3, 'v1 quota');
  t.equal(cgroupCpuLimit(files({})), undefined, 'no cgroup files');
  t.equal(resolveWorkers('auto', files({})), cpus, 'auto without a quota: every available CPU');
  t.equal(resolveWorkers('auto', files({ '/sys/fs/cgroup/cpu.max': '100000 100000' })), 1, 'auto under a 1-CPU quota: 1');
  t.equal(resolveWorkers('auto', files({ '/sys/fs/cgroup/cpu.max': `${(cpus + 4) * 100000} 100000` })), cpus, 'a quota above the CPUs does not add workers');
  t.equal(resolveWorkers(3, files({})), 3, 'a number is taken as written');
});

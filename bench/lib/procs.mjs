/** Child processes (every server under test runs in its own), ports, /proc readings, load generators. */
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { request } from 'undici';

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

/** Kill every child we started (by pid), e.g. on exit or crash. */
export function killAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {}
    }
  }
  children.clear();
}
process.on('exit', killAll);

export async function freePort() {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
  await new Promise((r) => s.close(() => r()));
  return port;
}

/**
 * Spawn a server and wait until `ready()` resolves true (polled), or fail after timeoutMs.
 * stdout/stderr go to /dev/null except the last stderr bytes, kept for error messages.
 */
export async function startProcess(name, command, args, { ready, timeoutMs = 20_000, env } = {}) {
  const proc = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  children.add(proc);
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}): ${stderr}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} not ready within ${timeoutMs} ms: ${stderr}`);
    }
    try {
      if (await ready()) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    proc,
    pid: proc.pid,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await once(proc, 'exit').catch(() => {});
        clearTimeout(t);
      }
      children.delete(proc);
    },
  };
}

/** GET url → status (and body text), for readiness and correctness checks. */
export async function httpGet(url, headers = {}, method = 'GET') {
  const res = await request(url, { method, headers, headersTimeout: 5000, bodyTimeout: 5000 });
  const body = await res.body.text();
  return { status: res.statusCode, body };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds of `pid` and every descendant (a cluster primary and its workers, nginx and its workers). */
export function treeCpuSeconds(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {}
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    try {
      total += cpuSeconds(p);
    } catch {}
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * One load run with wrk (preferred: C, cheap) against `url`, cycling the requests in `reqFile`.
 * @returns {Promise<{ requests: number, rps: number, p50Ms: number, p99Ms: number, errors: number, non2xx: number }>}
 */
export async function runWrk({ url, reqFile, luaFile, seconds, connections }) {
  const proc = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', luaFile, url, '--', reqFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const kill = setTimeout(() => proc.kill('SIGKILL'), (seconds + 20) * 1000);
  await once(proc, 'exit');
  clearTimeout(kill);
  children.delete(proc);
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk gave no summary: ${out.slice(-500)}`);
  const j = JSON.parse(line.slice(8));
  return {
    requests: j.requests,
    rps: j.requests / (j.duration_us / 1e6),
    p50Ms: j.p50_us / 1000,
    p99Ms: j.p99_us / 1000,
    errors: j.connect + j.read + j.write + j.timeout,
    non2xx: j.status,
  };
}

/** Same with autocannon (programmatic), when wrk is not installed. Its own CPU caps it near ~30k rps here. */
export async function runAutocannon({ url, reqs, seconds, connections }) {
  const { default: autocannon } = await import('autocannon');
  let i = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (r) => {
          const q = reqs[i++ % reqs.length];
          return { ...r, method: q.method, path: q.path, headers: q.token ? { authorization: `Bearer ${q.token}` } : {} };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.total / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

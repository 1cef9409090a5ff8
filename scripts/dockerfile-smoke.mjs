#!/usr/bin/env node
/**
 * What can be checked of the Dockerfile without a Docker engine:
 *  1. every COPY source exists in the repo (after `npm run build`, for dist/); the config baked
 *     in at /etc/scopegate/scopegate.yaml binds 0.0.0.0 on the EXPOSEd ports (reachable through
 *     `docker run -p`); the OCI version label comes from the VERSION build argument;
 *  2. the runtime layout works: a clean `npm ci --omit=dev` install plus dist/ and
 *     package.json in an empty directory, config at a path like /etc/scopegate,
 *     then the ENTRYPOINT command (`node dist/cli.js serve --config …`) starts,
 *     answers /healthz, and drains to exit 0 on SIGTERM; `check` passes too.
 * Prints "N passed, N failed"; exits 1 on any failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const copies = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].map((m) => m[1].trim().split(/\s+/).slice(0, -1)).flat();
for (const source of copies) check(existsSync(join(root, source)), `COPY source exists: ${source}`);
const entry = /^ENTRYPOINT\s+(\[.*\])$/m.exec(dockerfile);
check(entry !== null, 'ENTRYPOINT is exec form');
const argv = JSON.parse(entry[1]);
check(argv[1] === '/app/dist/cli.js' && argv[2] === 'serve', `ENTRYPOINT runs /app/dist/cli.js serve (${argv.join(' ')})`);
check(/^USER\s+65532:65532$/m.test(dockerfile), 'runs as a non-root user');
check(/^STOPSIGNAL\s+SIGTERM$/m.test(dockerfile), 'STOPSIGNAL SIGTERM');
check(/^ARG VERSION=/m.test(dockerfile) && /org\.opencontainers\.image\.version="\$\{VERSION\}"/.test(dockerfile), 'OCI label org.opencontainers.image.version from ARG VERSION');

// The config the image ships, and the ports it exposes.
const IMAGE_CONFIG = '/etc/scopegate/scopegate.yaml';
const baked = /^COPY\s+(\S+)\s+(\S+)$/gm;
const configSource = [...dockerfile.matchAll(baked)].find((m) => m[2] === IMAGE_CONFIG)?.[1];
check(configSource !== undefined && configSource !== 'config/scopegate.yaml', `the image has its own config at ${IMAGE_CONFIG} (${configSource})`);
const bakedText = readFileSync(join(root, configSource ?? 'config/scopegate.yaml'), 'utf8');
const listenOf = (key) => new RegExp(`^${key}: (\\S+)`, 'm').exec(bakedText)?.[1];
const exposed = (/^EXPOSE\s+(.+)$/m.exec(dockerfile)?.[1] ?? '').split(/\s+/);
for (const key of ['listen', 'admin_listen']) {
  const value = listenOf(key) ?? '';
  check(value.startsWith('0.0.0.0:') && exposed.includes(value.split(':')[1]), `baked config ${key} ${value} is 0.0.0.0 on an EXPOSEd port (${exposed.join(' ')})`);
}

const app = mkdtempSync(join(tmpdir(), 'scopegate-image-'));
try {
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(app, f));
  const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8' });
  check(install.status === 0, `npm ci --omit=dev in a clean directory${install.status === 0 ? '' : `: ${install.stderr.slice(-500)}`}`);
  cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
  check(!existsSync(join(app, 'node_modules', 'typescript')) && !existsSync(join(app, 'node_modules', 'tap')), 'no dev dependencies in the runtime install');

  // The image's /etc/scopegate/scopegate.yaml, with ports the test can pick.
  const etc = join(app, 'etc-scopegate');
  mkdirSync(etc);
  // Loopback only here: the listeners on free ports, the placeholder issuer's JWKS on a closed port.
  const config = bakedText
    .replace(/^listen: .*$/m, 'listen: 127.0.0.1:0')
    .replace(/^admin_listen: .*$/m, 'admin_listen: 127.0.0.1:0')
    .replace(/jwks_uri: \S+/g, 'jwks_uri: http://127.0.0.1:9/.well-known/jwks.json');
  writeFileSync(join(etc, 'scopegate.yaml'), config);
  const args = argv.slice(1).map((a) => a.replace('/app/', `${app}/`).replace('/etc/scopegate/', `${etc}/`));

  const version = spawnSync(process.execPath, [args[0], '--version'], { cwd: app, encoding: 'utf8' });
  const pkgVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  check(version.status === 0 && version.stdout.trim() === pkgVersion, `scopegate --version in the runtime layout prints ${pkgVersion} (got ${version.stdout.trim()})`);

  const checked = spawnSync(process.execPath, [args[0], 'check', '--config', join(etc, 'scopegate.yaml')], { cwd: app, encoding: 'utf8' });
  check(checked.status === 0, 'scopegate check on the image config');

  const proc = spawn(process.execPath, args, { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  const started = await new Promise((resolve) => {
    const timer = setInterval(() => {
      const line = out.split('\n').find((l) => l.includes('"scopegate started"'));
      if (line) {
        clearInterval(timer);
        resolve(JSON.parse(line));
      }
    }, 50);
    setTimeout(() => {
      clearInterval(timer);
      resolve(undefined);
    }, 15000);
  });
  check(started !== undefined, 'the ENTRYPOINT command starts');
  if (started) {
    const health = await fetch(`${started.admin}/healthz`).then((r) => r.status, () => 0);
    check(health === 200, '/healthz answers 200');
  }
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  check((await exited) === 0, 'SIGTERM drains and exits 0');
} finally {
  rmSync(app, { recursive: true, force: true });
}
console.log(`dockerfile-smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

/**
 * The real nginx and Caddy (Debian packages, installed by scripts/ensure-tools.sh)
 * run as child processes on 127.0.0.1 with temporary config directories, from the
 * configurations the README documents (deploy/authz/). Never daemons: the test
 * owns the process and kills it on teardown.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ProxyKind = 'nginx' | 'caddy';

/** The addresses written in deploy/authz/*: replaced by the test's own. */
const DOC_PROXY = '127.0.0.1:8080';
const DOC_AUTHZ = '127.0.0.1:8181';
const DOC_API = '127.0.0.1:3000';

/** A proxy binary starts within a second here; generous for a loaded CI machine. */
const START_TIMEOUT_MS = 15_000;

const CONFIG_FILES: Readonly<Record<ProxyKind, string>> = {
  nginx: fileURLToPath(new URL('../../deploy/authz/nginx.conf', import.meta.url)),
  caddy: fileURLToPath(new URL('../../deploy/authz/Caddyfile', import.meta.url)),
};

/** Whether the binary is on PATH (scripts/ensure-tools.sh installs it when it can). */
export function hasBinary(kind: ProxyKind): boolean {
  return spawnSync(kind, kind === 'nginx' ? ['-v'] : ['version'], { stdio: 'ignore' }).status === 0;
}

export interface RunningProxy {
  readonly url: string;
  readonly proc: ChildProcess;
  /** What the proxy wrote (errors, startup), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port free at the moment of asking (the proxy binds it right after). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function waitForPort(port: number, proc: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`proxy exited (${proc.exitCode}): ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`proxy not listening on ${port} within ${START_TIMEOUT_MS} ms: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function commandFor(kind: ProxyKind, dir: string, configFile: string): [string, string[], NodeJS.ProcessEnv] {
  if (kind === 'nginx') {
    for (const sub of ['logs', 'tmp']) mkdirSync(join(dir, sub));
    // One process (no master/worker pair, hence no privilege drop to `nobody` when run as
    // root): killing it leaves no orphaned worker holding the port.
    const globals = `daemon off; master_process off; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'logs', 'error.log')} warn;`;
    return ['nginx', ['-p', `${dir}/`, '-c', configFile, '-g', globals], process.env];
  }
  // Caddy keeps its state under XDG dirs: a temporary one, so nothing of the host's is used or touched.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  return ['caddy', ['run', '--config', configFile, '--adapter', 'caddyfile'], env];
}

/** Start `kind` with its deploy/authz config, pointed at scopegate's authz listener and the API. */
export async function startProxy(kind: ProxyKind, authzUrl: string, apiUrl: string): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), `scopegate-${kind}-`));
  const port = await freePort();
  const text = readFileSync(CONFIG_FILES[kind], 'utf8')
    .replaceAll(DOC_PROXY, `127.0.0.1:${port}`)
    .replaceAll(DOC_AUTHZ, new URL(authzUrl).host)
    .replaceAll(DOC_API, new URL(apiUrl).host);
  // The tmp paths nginx would otherwise create under its compiled-in prefix (/var/lib/nginx).
  const tmp = join(dir, 'tmp');
  const config =
    kind === 'nginx'
      ? text.replace('http {', `http {\n    client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fcgi; uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;`)
      : text;
  const configFile = join(dir, kind === 'nginx' ? 'nginx.conf' : 'Caddyfile');
  writeFileSync(configFile, config);
  const [cmd, args, env] = commandFor(kind, dir, configFile);
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
  const exited = once(proc, 'exit');
  const output = (): string => {
    let errorLog = '';
    try {
      errorLog = readFileSync(join(dir, 'logs', 'error.log'), 'utf8');
    } catch {
      // Caddy has none; nginx may not have written one yet.
    }
    return chunks.join('') + errorLog;
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, proc, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, proc, output, stop };
}

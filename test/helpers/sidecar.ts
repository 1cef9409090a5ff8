/**
 * Spawns the real `scopegate serve` process (the built dist/cli.js) on a
 * temporary config, and reads its JSON log lines to learn its ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Sidecar {
  /** The proxy listener; '' for an authz-only config. */
  readonly url: string;
  /** The authz listener, when the config has `authz_listen`. */
  readonly authzUrl: string | undefined;
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  readonly proc: ChildProcess;
  readonly configFile: string;
  /** Every stdout line so far (pino JSON). */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name) once the process exits. */
  readonly exited: Promise<number | string>;
  /** Parsed log lines whose msg equals `msg`. */
  logs(msg?: string): Record<string, unknown>[];
  /** Wait until a log line with this msg appears. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Wait until at least `count` lines with this msg have been written (logs are flushed in batches). */
  waitForLogs(msg: string, count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** RSS of the sidecar process in bytes, from /proc. */
  rss(): number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

export interface SidecarOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly args?: string[];
  /** Use this config path as is (e.g. a Kubernetes-style symlinked mount) instead of writing configYaml. */
  readonly configPath?: string;
}

export async function startSidecar(configYaml: string, opts: SidecarOptions = {}): Promise<Sidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-e2e-'));
  const configFile = opts.configPath ?? join(dir, 'scopegate.yaml');
  if (opts.configPath === undefined) writeFileSync(configFile, configYaml);
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', configFile, ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      stdout.push(line);
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      if (parsed) {
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.msg === parsed['msg']) {
            waiters[i]!.resolve(parsed);
            waiters.splice(i, 1);
          }
        }
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(proc, 'exit').then(([code, signal]) => (code ?? signal) as number | string);

  const parsedLogs = (): Record<string, unknown>[] =>
    stdout.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const waitForLog = (msg: string, timeoutMs = START_TIMEOUT_MS): Promise<Record<string, unknown>> => {
    const existing = parsedLogs().find((l) => l['msg'] === msg);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr: ${stderr.join('')}; stdout: ${stdout.join('\n')}`)), timeoutMs);
      waiters.push({
        msg,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`scopegate exited (${code}) before "${msg}"; stderr: ${stderr.join('')}`));
      });
    });
  };

  const started = await waitForLog('scopegate started');
  const url = started['listen'] === undefined ? '' : String(started['listen']);
  const authzUrl = started['authz_listen'] === undefined ? undefined : String(started['authz_listen']);
  const adminUrl = String(started['admin']);
  const u = new URL(url === '' ? (authzUrl ?? adminUrl) : url);
  return {
    url,
    authzUrl,
    adminUrl,
    host: u.hostname,
    port: Number(u.port),
    proc,
    configFile,
    stdout,
    stderr,
    exited,
    logs: (msg?: string) => parsedLogs().filter((l) => msg === undefined || l['msg'] === msg),
    waitForLogs: async (msg: string, count: number, timeoutMs = START_TIMEOUT_MS) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = parsedLogs().filter((l) => l['msg'] === msg);
        if (lines.length >= count) return lines;
        if (Date.now() > deadline) throw new Error(`only ${lines.length} of ${count} "${msg}" lines within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    waitForLog,
    rss: () => rssOf(proc.pid!),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident set size of a process, in bytes, from /proc/<pid>/status (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

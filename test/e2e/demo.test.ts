/**
 * `npm start` as a new user meets it: `scopegate demo` prints curl commands,
 * and each one, run through a real shell and curl, does what its line says.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CLI } from '../helpers/sidecar.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hasCurl = spawnSync('curl', ['--version']).status === 0;

function startDemo(args: string[]) {
  const proc = spawn(process.execPath, [CLI, 'demo', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const banner = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stdout.includes('Press Ctrl-C to stop.')) {
        clearInterval(timer);
        resolve(stdout);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`demo exited ${code}: ${stderr}`));
    });
  });
  return { proc, banner, exited, output: () => ({ stdout, stderr }) };
}

t.test('every curl command the demo prints does what it says', { skip: hasCurl ? false : 'curl is not installed' }, async (t) => {
  const demo = startDemo(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0']);
  t.teardown(() => void demo.proc.kill('SIGKILL'));
  const banner = await demo.banner;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['READER', 'WRITER']) {
    const m = new RegExp(`^\\s+${name}='([^']+)'$`, 'm').exec(banner);
    t.ok(m, `${name} token printed`);
    env[name] = m![1];
  }
  // Each example is a "<status> — what happens" line followed by the command.
  const examples = [...banner.matchAll(/^(\d{3}) — (.+)\n\s+(curl .+)$/gm)].map((m) => ({ status: m[1]!, what: m[2]!, command: m[3]! }));
  t.same(examples.map((e) => e.status), ['200', '401', '403', '200', '404'], 'the advertised outcomes');
  for (const e of examples) {
    const r = spawnSync('bash', ['-c', e.command], { env, encoding: 'utf8', timeout: 10_000 });
    t.equal(r.status, 0, `curl ran: ${e.command}`);
    const statusLine = r.stdout.split('\r\n')[0] ?? '';
    t.match(statusLine, new RegExp(`^HTTP/1\\.1 ${e.status} `), `${e.status} — ${e.what}`);
    if (e.status === '200') t.match(r.stdout, /"upstream": "demo echo"/, 'the echo upstream answered');
    if (e.status === '403') t.match(r.stdout, /www-authenticate: Bearer realm="scopegate", error="insufficient_scope".*scope="projects:write"/i);
    if (e.status === '401') t.match(r.stdout, /www-authenticate: Bearer realm="scopegate"\r\n/i);
  }
  const metrics = /^Metrics: (curl .+)$/m.exec(banner)![1]!;
  const m = spawnSync('bash', ['-c', metrics], { env, encoding: 'utf8', timeout: 10_000 });
  t.match(m.stdout, /scopegate_decisions_total\{outcome="allow",reason="allowed",listener="proxy"\} 2/);

  demo.proc.kill('SIGINT');
  t.equal(await demo.exited, 0, 'Ctrl-C stops the demo cleanly');
});

t.test('a taken port gets a clear message, not a stack trace', async (t) => {
  const first = startDemo(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0']);
  t.teardown(() => void first.proc.kill('SIGKILL'));
  const banner = await first.banner;
  const taken = /sidecar\s+http:\/\/(127\.0\.0\.1:\d+)/.exec(banner)![1]!;
  const second = startDemo(['--listen', taken, '--admin-listen', '127.0.0.1:0']);
  second.banner.catch(() => undefined); // it is expected never to print the banner
  t.equal(await second.exited, 1);
  t.match(second.output().stderr, /already in use/);
  t.match(second.output().stderr, /npm start -- --listen/);
  t.notMatch(second.output().stderr, /at .*\.js:\d+/, 'no stack trace');
});

/** The `scopegate` command as a user runs it: the built dist/cli.js in a child process. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI } from '../helpers/sidecar.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, SCOPEGATE_CONFIG: '', ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

t.test('check prints the compiled route table of the bundled default, sorted', async (t) => {
  const r = run(['check', '--config', 'config/scopegate.yaml']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^METHOD\s+PATH\s+REQUIRES$/);
  t.match(r.stdout, /^GET\s+\/api\/oauth-client\/organizations\s+org:read$/m);
  t.match(r.stdout, /^POST\s+\/api\/oauth-client\/v1\/projects\s+projects:write$/m);
  t.match(r.stdout, /^GET\s+\/api\/oauth-client\/me\s+any valid token$/m);
  const paths = lines.slice(1, -1).map((l) => l.split(/\s+/)[1]!);
  t.same(paths, [...paths].sort(), 'sorted by path');
  t.match(lines[lines.length - 1], /config\/scopegate\.yaml: ok, 8 routes, 1 issuer\(s\)/);
});

t.test('check takes the path positionally, from SCOPEGATE_CONFIG, or the default', async (t) => {
  t.equal(run(['check', 'config/scopegate.yaml']).code, 0);
  t.equal(run(['check'], { SCOPEGATE_CONFIG: 'config/scopegate.yaml' }).code, 0);
  t.equal(run(['check']).code, 0, 'default config/scopegate.yaml');
  const missing = run(['check'], { SCOPEGATE_CONFIG: 'nope.yaml' });
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.yaml: file not found/);
});

t.test('a config with five mistakes prints five positioned errors and exits 1', async (t) => {
  const r = run(['check', 'test/fixtures/config/five-mistakes.yaml']);
  t.equal(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => /^test\/fixtures\/config\/five-mistakes\.yaml:\d+:\d+: /.test(l));
  t.equal(errors.length, 5, errors.join('\n'));
  t.same(
    errors.map((e) => /:(\d+:\d+): /.exec(e)![1]),
    ['4:8', '5:15', '11:27', '12:19', '14:3'],
  );
  t.match(errors[4], /routes\."FETCH \/x": unknown method FETCH/);
  t.equal(r.stdout, '', 'no route table for an invalid config');
});

t.test('help, version and usage errors', async (t) => {
  const help = run(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /scopegate serve/);
  t.match(help.stdout, /scopegate check/);
  const version = run(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  t.equal(run([]).code, 2);
  t.equal(run(['frobnicate']).code, 2);
  t.equal(run(['check', '--bogus']).code, 2);
});

t.test('serve refuses to start on an invalid config and says why', async (t) => {
  const r = run(['serve', 'test/fixtures/config/five-mistakes.yaml']);
  t.equal(r.code, 1);
  t.match(r.stderr, /unknown method FETCH/);
});

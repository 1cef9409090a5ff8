// Every fixture states the issues it must produce in `# expect:` (errors) and
// `# warning:` comment lines: `# expect: LINE:COL PATH :: MESSAGE-PREFIX`.
// The loader must report exactly those, in that order — no more, no fewer.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import type { ConfigIssue } from '../../../src/errors.js';

const root = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));

interface Expected {
  readonly severity: 'error' | 'warning';
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
}

const EXPECT = /^# (expect|warning): (\d+):(\d+) (.*?) :: (.*)$/;

function expectedIssues(text: string): Expected[] {
  const out: Expected[] = [];
  for (const line of text.split('\n')) {
    const m = EXPECT.exec(line);
    if (m === null) continue;
    out.push({
      severity: m[1] === 'expect' ? 'error' : 'warning',
      line: Number(m[2]),
      col: Number(m[3]),
      path: m[4] ?? '',
      message: m[5] ?? '',
    });
  }
  return out;
}

function summary(i: ConfigIssue): string {
  return `${i.severity} ${i.line}:${i.col} ${i.path} :: ${i.message}`;
}

function checkFixture(t: Test, dir: string, name: string): void {
  const text = readFileSync(`${root}${dir}/${name}`, 'utf8');
  const expected = expectedIssues(text);
  t.ok(expected.length > 0, 'fixture declares its expected issues');
  const { config, issues } = loadConfigText(text, name);
  const wantsError = expected.some((e) => e.severity === 'error');
  t.equal(config === undefined, wantsError, wantsError ? 'rejected' : 'accepted');
  t.equal(issues.length, expected.length, `issue count\n${issues.map(summary).join('\n')}`);
  expected.forEach((e, i) => {
    const got = issues[i];
    if (got === undefined) return;
    t.equal(got.severity, e.severity, `[${i}] severity`);
    t.equal(`${got.line}:${got.col}`, `${e.line}:${e.col}`, `[${i}] position of ${summary(got)}`);
    t.equal(got.path, e.path, `[${i}] path`);
    t.ok(got.message.startsWith(e.message), `[${i}] message ${JSON.stringify(got.message)} starts with ${JSON.stringify(e.message)}`);
    t.equal(got.file, name, `[${i}] file`);
  });
}

for (const dir of ['invalid', 'loader-only']) {
  const names = readdirSync(`${root}${dir}`).filter((n) => n.endsWith('.yaml')).sort();
  t.test(dir, async (t) => {
    for (const name of names) t.test(name, async (t) => checkFixture(t, dir, name));
  });
}

/**
 * Every relative link in every tracked Markdown file resolves: the file (or directory) exists,
 * and a `#fragment` names a heading (GitHub's anchor for it) or an `<a id>`/`<a name>` of the
 * target. Links inside code blocks and code spans are not links. External links (a scheme, or
 * `//host`) are not checked: no network in tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The text with fenced code blocks and code spans blanked out (line numbers kept). */
function prose(markdown: string): string {
  return markdown
    .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\2[^\n]*$|(?![\s\S]))/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, (span) => span.replace(/[^\n]/g, ' '));
}

/** GitHub's anchor for a heading's text (the github-slugger rules), numbered on repeats. */
function slugger(): (text: string) => string {
  const seen = new Map<string, number>();
  return (text) => {
    const plain = text
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[*_`~]/g, (c) => (c === '_' ? c : ''));
    const base = plain.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}-${n}`;
  };
}

/** Every anchor a Markdown file offers: its headings' slugs and explicit HTML ids/names. */
export function anchorsOf(markdown: string): Set<string> {
  const slug = slugger();
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\2[^\n]*$|(?![\s\S]))/gm, '');
  for (const m of withoutCode.matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) anchors.add(slug(m[1] ?? ''));
  for (const m of markdown.matchAll(/<a\s[^>]*?(?:id|name)=["']([^"']+)["']/gi)) anchors.add(m[1] ?? '');
  return anchors;
}

/** The link targets of a Markdown text: inline links and images, and reference definitions. */
export function linksOf(markdown: string): { target: string; line: number }[] {
  const text = prose(markdown);
  const out: { target: string; line: number }[] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
    out.push({ target: (m[1] ?? '').replace(/^<|>$/g, ''), line: lineAt(m.index ?? 0) });
  }
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) out.push({ target: m[1] ?? '', line: lineAt(m.index ?? 0) });
  return out;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Broken relative links of one file, as `line: target (why)`. */
export function brokenLinks(root: string, file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  const broken: string[] = [];
  for (const { target, line } of linksOf(source)) {
    if (isExternal(target)) continue;
    const [pathPart = '', fragment] = target.split('#', 2) as [string, string | undefined];
    const path = decodeURIComponent(pathPart.split('?')[0] ?? '');
    const resolved = path === '' ? join(root, file) : path.startsWith('/') ? join(root, path) : resolve(root, dirname(file), path);
    const shown = `${line}: ${target}`;
    if (!resolved.startsWith(resolve(root)) || !existsSync(resolved)) {
      broken.push(`${shown} (no such file: ${relative(root, resolved)})`);
    } else if (fragment !== undefined && fragment !== '') {
      if (statSync(resolved).isDirectory() || !/\.md$/i.test(resolved)) continue;
      if (!anchorsOf(readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment).toLowerCase())) {
        broken.push(`${shown} (no heading #${fragment} in ${relative(root, resolved)})`);
      }
    }
  }
  return broken;
}

t.test('the checker finds what is broken and accepts what is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-links-'));
  writeFileSync(join(dir, 'b.md'), '# Title\n\n## `scopegate check`\n\n### Shadow (report-only) mode\n\n## Title\n\n<a id="custom"></a>\n');
  writeFileSync(
    join(dir, 'a.md'),
    [
      '[ok](b.md) [ok](./b.md#title) [ok](b.md#title-1) [ok](b.md#scopegate-check) [ok](b.md#shadow-report-only-mode)',
      '[ok](b.md#custom) [ok](#local) [ok](https://example.com/x.md) ![ok](b.md "title")',
      '## Local',
      '`[not a link](missing.md)`',
      '```',
      '[not a link](missing.md)',
      '```',
      '[bad](missing.md) [bad](b.md#nope) [bad](#nowhere)',
      '[ref]: other/missing.md',
    ].join('\n'),
  );
  t.same(brokenLinks(dir, 'a.md'), [
    '8: missing.md (no such file: missing.md)',
    '8: b.md#nope (no heading #nope in b.md)',
    '8: #nowhere (no heading #nowhere in a.md)',
    '9: other/missing.md (no such file: other/missing.md)',
  ]);
});

t.test('every relative link in every tracked Markdown file resolves', async (t) => {
  const files = execFileSync('git', ['ls-files', '-z', '--', '*.md'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter((f) => f !== '' && existsSync(join(REPO, f)));
  t.ok(files.includes('README.md') && files.length >= 5, `${files.length} tracked Markdown files`);
  let links = 0;
  for (const file of files) {
    links += linksOf(readFileSync(join(REPO, file), 'utf8')).filter((l) => !isExternal(l.target)).length;
    t.same(brokenLinks(REPO, file), [], `${file}: every relative link resolves`);
  }
  t.ok(links >= 10, `${links} relative links checked`);
});

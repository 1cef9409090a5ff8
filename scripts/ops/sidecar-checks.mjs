/**
 * The sidecar injection (deploy/helm/scopegate-sidecar, deploy/kustomize/scopegate-sidecar) over
 * the sample third-party API of deploy/examples/third-party-api, checked by validate-manifests.mjs:
 *
 *   schema    values.schema.json equals what gen-values-schema.mjs makes of config/scopegate.schema.json;
 *             `helm install --dry-run=client` refuses `algorithms: [HS256]`, an unknown key and a chart-owned key, naming the path;
 *   diff      `helm template` and `kubectl kustomize` over the sample (as a Deployment, and again as a
 *             StatefulSet) give back the user's workload with only the sidecar's additions, and the
 *             user's containers unchanged (sidecar-diff.mjs); every other object passes through unchanged;
 *   contract  the sidecar's ports, probes, preStop, hardening, config mount; a grace period covering
 *             preStop + drain; the config passes `scopegate check` and binds 0.0.0.0; Services aim at
 *             the proxy port; the NetworkPolicy opens only scopegate's ports; helm and kustomize agree;
 *   k8s       every rendered object through the same schema and strict checks as the other manifests.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { staleSchemas } from './gen-values-schema.mjs';
import { REPO, run, trackTempDir } from './lib.mjs';
import { CONFIG_VOLUME, SIDECAR, SIDECAR_LABEL, injectionDiff } from './sidecar-diff.mjs';

const CHART = join(REPO, 'deploy/helm/scopegate-sidecar');
const COMPONENT = join(REPO, 'deploy/kustomize/scopegate-sidecar');
const SAMPLE = join(REPO, 'deploy/examples/third-party-api');
const CLI = join(REPO, 'dist/cli.js');
const WORKLOADS = ['Deployment', 'StatefulSet'];

/** The sample's objects; as a StatefulSet when asked (same pod template, plus serviceName). */
function sampleObjects(docsOf, kind) {
  const objs = docsOf(readFileSync(join(SAMPLE, 'app.yaml'), 'utf8'), 'sample app.yaml');
  if (kind === 'StatefulSet') {
    for (const o of objs.filter((x) => x.kind === 'Deployment')) {
      o.kind = 'StatefulSet';
      o.spec.serviceName = o.metadata.name;
    }
  }
  return objs;
}

const key = (o) => `${o.kind}/${o.metadata?.name}`;
/** A kustomize-generated name carries a hash suffix: scopegate-config-<hash>. */
const baseName = (name) => name.replace(/-[a-z0-9]{10}$/, '');

function checkInjected(ctx, source, sample, rendered) {
  const { check } = ctx;
  const byKey = new Map(rendered.map((o) => [key(o), o]));
  let config;
  for (const orig of sample) {
    const out = byKey.get(key(orig));
    if (!check(source, `${key(orig)} is rendered`, out !== undefined)) continue;
    if (WORKLOADS.includes(orig.kind)) {
      const d = injectionDiff(orig, out);
      check(source, `${key(orig)}: the API containers are unchanged`, d.apiContainersSame);
      check(source, `${key(orig)}: nothing else changed but the sidecar's additions`, d.extra.length === 0, d.extra.join(', '));
      config = checkPod(ctx, source, key(orig), out, rendered) ?? config;
    } else if (orig.kind === 'Service') {
      const ports = out.spec.ports ?? [];
      check(source, `${key(orig)}: every port targets scopegate's proxy port`, ports.every((p) => p.targetPort === 'proxy'), JSON.stringify(ports));
      check(source, `${key(orig)}: a port named scopegate is added`, ports.some((p) => p.name === SIDECAR));
      check(source, `${key(orig)}: only its ports changed`, isDeepStrictEqual({ ...out, spec: { ...out.spec, ports: [] } }, { ...orig, spec: { ...orig.spec, ports: [] } }));
    } else {
      check(source, `${key(orig)} passes through unchanged`, isDeepStrictEqual(orig, out));
    }
  }
  const policies = rendered.filter((o) => o.kind === 'NetworkPolicy');
  check(source, 'a NetworkPolicy selects the sidecar pods and opens only the proxy and admin ports', policies.length === 1 &&
    policies[0].spec.podSelector?.matchLabels?.[SIDECAR_LABEL] === 'true' &&
    isDeepStrictEqual(policies[0].spec.ingress.flatMap((r) => r.ports.map((p) => p.port)).sort(), [8080, 9090]));
  return config;
}

/** The sidecar's contract in one injected pod; returns the parsed scopegate.yaml. */
function checkPod(ctx, source, id, workload, rendered) {
  const { check } = ctx;
  const pod = workload.spec.template.spec;
  const sidecars = pod.containers.filter((c) => c.name === SIDECAR);
  if (!check(source, `${id}: exactly one container named ${SIDECAR}`, sidecars.length === 1)) return undefined;
  const sidecar = sidecars[0];
  const sc = sidecar.securityContext ?? {};
  check(source, `${id}: sidecar hardened (non-root 65532, read-only root, no escalation, drop ALL, seccomp)`,
    sc.runAsNonRoot === true && sc.runAsUser === 65532 && sc.readOnlyRootFilesystem === true && sc.allowPrivilegeEscalation === false &&
    (sc.capabilities?.drop ?? []).includes('ALL') && sc.seccompProfile?.type === 'RuntimeDefault');
  const ports = Object.fromEntries((sidecar.ports ?? []).map((p) => [p.name, p.containerPort]));
  check(source, `${id}: sidecar ports proxy 8080 and admin 9090`, ports.proxy === 8080 && ports.admin === 9090, JSON.stringify(ports));
  for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz'], ['startupProbe', '/healthz']]) {
    check(source, `${id}: sidecar ${probe} GET ${path} on admin`, sidecar[probe]?.httpGet?.path === path && sidecar[probe]?.httpGet?.port === 'admin');
  }
  const preStop = sidecar.lifecycle?.preStop?.sleep?.seconds;
  check(source, `${id}: sidecar preStop is a sleep action`, Number.isInteger(preStop));
  check(source, `${id}: the pod carries ${SIDECAR_LABEL}`, workload.spec.template.metadata?.labels?.[SIDECAR_LABEL] === 'true');
  const mount = (sidecar.volumeMounts ?? []).find((m) => m.mountPath === '/etc/scopegate');
  const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name && v.name === CONFIG_VOLUME);
  const cm = rendered.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name);
  if (!check(source, `${id}: /etc/scopegate mounts a ConfigMap with scopegate.yaml`, cm?.data?.['scopegate.yaml'] !== undefined, `volume ${JSON.stringify(volume)}`)) return undefined;
  const text = cm.data['scopegate.yaml'];
  const config = parseYaml(text);
  check(source, `${id}: config listens on 0.0.0.0:8080 and 0.0.0.0:9090`, config.listen === '0.0.0.0:8080' && config.admin_listen === '0.0.0.0:9090');
  check(source, `${id}: config upstream is the API's port on loopback`, config.upstream?.url === 'http://127.0.0.1:8000', config.upstream?.url);
  const drain = Math.ceil((config.limits?.drain_timeout_ms ?? 25_000) / 1000);
  check(source, `${id}: grace ${pod.terminationGracePeriodSeconds} s > preStop ${preStop} s + drain ${drain} s`, pod.terminationGracePeriodSeconds > preStop + drain);
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'scopegate-sidecar-')));
  writeFileSync(join(dir, 'scopegate.yaml'), text);
  const r = existsSync(CLI) ? run(process.execPath, [CLI, 'check', join(dir, 'scopegate.yaml')], { allowFail: true }) : { status: 1, stdout: 'dist/cli.js missing: npm run build', stderr: '' };
  check(source, `${id}: \`scopegate check\` accepts the config`, r.status === 0, `${r.stdout}${r.stderr}`.trim());
  return config;
}

function helmTemplate(tools, manifestsFile, args = []) {
  return run(tools.helm, ['template', 'httpbin', CHART, '--kube-version', '1.33.0', '--set-file', `manifests=${manifestsFile}`, '-f', join(SAMPLE, 'values.yaml'), ...args], { allowFail: true });
}

/** `helm install --dry-run=client`: the install path (schema validation included) without a cluster. */
function helmInstallDryRun(tools, args = []) {
  const env = { ...process.env, KUBECONFIG: join(tmpdir(), 'scopegate-no-cluster', 'kubeconfig') };
  return run(tools.helm, ['install', 'httpbin', CHART, '--dry-run=client', '--set-file', `manifests=${join(SAMPLE, 'app.yaml')}`, '-f', join(SAMPLE, 'values.yaml'), ...args], { allowFail: true, env });
}

/** The committed sample; as a StatefulSet, in a temp directory with a kustomization like the sample's. */
function writeSample(docsOf, kind) {
  if (kind === 'Deployment') return { dir: SAMPLE, objs: sampleObjects(docsOf, kind) };
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'scopegate-sample-')));
  const objs = sampleObjects(docsOf, kind);
  writeFileSync(join(dir, 'app.yaml'), objs.map((o) => stringify(o)).join('---\n'));
  writeFileSync(join(dir, 'scopegate.yaml'), readFileSync(join(SAMPLE, 'scopegate.yaml')));
  writeFileSync(join(dir, 'kustomization.yaml'), stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['app.yaml'], components: [relative(dir, COMPONENT)],
    configMapGenerator: [{ name: 'scopegate-config', files: ['scopegate.yaml'] }],
  }));
  return { dir, objs };
}

function checkSchemaRefusals(ctx) {
  const { tools, check, results } = ctx;
  const stale = staleSchemas();
  check('values.schema.json', 'each chart\'s equals the file generated from config/scopegate.schema.json', stale.length === 0, `${stale.join(', ')}: run node scripts/ops/gen-values-schema.mjs`);
  const lint = run(tools.helm, ['lint', '--strict', CHART, '--set-file', `manifests=${join(SAMPLE, 'app.yaml')}`, '-f', join(SAMPLE, 'values.yaml')], { allowFail: true });
  check('helm lint --strict scopegate-sidecar', 'passes', lint.status === 0, `${lint.stdout}${lint.stderr}`);
  const refusals = [
    ['algorithms: [HS256]', ['--set', 'config.auth.issuers[0].algorithms={HS256}'], /at '\/config\/auth\/issuers\/0\/algorithms\/0': value must be one of 'RS256'/],
    ['unknown key config.auth.anyof', ['--set', 'config.auth.anyof=x'], /at '\/config\/auth': additional properties 'anyof' not allowed/],
    ['unknown top-level key', ['--set', 'colour=blue'], /additional properties 'colour' not allowed/],
    ['a chart-owned key (config.listen)', ['--set', 'config.listen=0.0.0.0:1'], /at '\/config': additional properties 'listen' not allowed/],
    ['proxyPort equal to the API port', ['--set', 'proxyPort=8000'], /uses port 8000, which is scopegate's proxyPort or adminPort/],
  ];
  const dry = helmInstallDryRun(tools);
  check('helm install --dry-run=client scopegate-sidecar', 'succeeds with the sample values', dry.status === 0, dry.stderr);
  for (const [name, args, expect] of refusals) {
    const r = helmInstallDryRun(tools, args);
    const ok = r.status !== 0 && expect.test(r.stderr);
    check(`helm install --dry-run=client scopegate-sidecar (${name})`, 'is refused with a message naming it', ok, `exit ${r.status}: ${r.stderr.trim()}`);
    results.push({ source: `sidecar chart refuses ${name}`, objects: '-', schemaOk: '-', derived: {}, failed: ok ? 0 : 1 });
  }
}

export async function checkSidecar(ctx) {
  const { tools, check, docsOf, validateSchema, results, failures } = ctx;
  checkSchemaRefusals(ctx);
  const configs = [];
  for (const kind of WORKLOADS) {
    const { dir, objs } = writeSample(docsOf, kind);
    for (const [tool, render] of [
      ['helm template', () => helmTemplate(tools, join(dir, 'app.yaml'))],
      ['kubectl kustomize', () => run(tools.kubectl, ['kustomize', dir], { allowFail: true })],
    ]) {
      const source = `${tool} scopegate-sidecar (sample ${kind})`;
      const before = failures.length;
      const r = render();
      if (!check(source, 'renders', r.status === 0, r.stderr)) continue;
      const rendered = docsOf(r.stdout, source);
      const schemaOk = await validateSchema(rendered, source);
      const config = checkInjected(ctx, source, objs, rendered);
      configs.push({ source, config });
      const named = rendered.find((o) => o.kind === 'ConfigMap' && baseName(o.metadata.name).endsWith('scopegate-config'));
      check(source, 'one scopegate ConfigMap', named !== undefined);
      results.push({ source, objects: rendered.length, schemaOk, derived: { grace: rendered.find((o) => o.kind === kind)?.spec.template.spec.terminationGracePeriodSeconds }, failed: failures.length - before });
    }
  }
  const [first, ...rest] = configs;
  for (const c of rest) check(c.source, `its scopegate.yaml equals that of ${first.source}`, isDeepStrictEqual(c.config, first.config), `${JSON.stringify(c.config)} vs ${JSON.stringify(first.config)}`);
}

/**
 * Peer servers of the end-to-end section that are not Node: HAProxy with `jwt_verify`
 * (1 or N threads) and nginx with `auth_request` to scopegate's authz listener
 * (deploy/authz/nginx.conf, the file test/e2e/authz-proxies.test.ts runs, with its ports replaced).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, ISSUER } from './tokens.mjs';

export function haproxyVersion() {
  try {
    const out = execFileSync('haproxy', ['-v'], { encoding: 'utf8' });
    const m = /version (\d+)\.(\d+)/.exec(out);
    return m ? { major: Number(m[1]), minor: Number(m[2]), text: out.split('\n')[0] } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * No route table: HAProxy checks one scope for everything (repos:read), which is all this
 * workload needs. `threads` 1 beside the single-threaded Node proxies, 2 beside `workers: 2`.
 */
export function haproxyConfig({ port, upstreamPort, pemFile, threads = 1 }) {
  return `global
  nbthread ${threads}
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  http-request deny deny_status 401 unless { req.hdr(authorization) -m beg "Bearer " }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
  http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.scope) var(txn.bearer),jwt_payload_query('$.scope')
  http-request set-var(txn.now) date()
  http-request deny deny_status 401 unless { var(txn.alg) -m str RS256 }
  http-request deny deny_status 401 unless { var(txn.iss) -m str ${ISSUER} }
  http-request deny deny_status 401 unless { var(txn.aud) -m str ${AUDIENCE} }
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 0 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${pemFile}") -m int 1 }
  http-request deny deny_status 403 unless { var(txn.scope) -m reg (^|\\ )repos:read(\\ |$) }
  default_backend be
backend be
  http-reuse always
  server up 127.0.0.1:${upstreamPort} maxconn 128
`;
}

const NGINX_CONF = fileURLToPath(new URL('../../deploy/authz/nginx.conf', import.meta.url));

export function nginxVersion() {
  try {
    // nginx -v writes to stderr.
    execFileSync('nginx', ['-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the shipped nginx.conf with the bench's ports into `dir` and returns the command:
 * one process (master_process off), so nginx is one worker, like one scopegate.
 */
export function nginxCommand({ dir, port, authzPort, upstreamPort }) {
  for (const sub of ['logs', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  const tmp = join(dir, 'tmp');
  const text = readFileSync(NGINX_CONF, 'utf8')
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
    .replaceAll('127.0.0.1:8181', `127.0.0.1:${authzPort}`)
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${upstreamPort}`)
    .replace('worker_connections 256;', 'worker_connections 1024;')
    .replace('http {', `http {\n    client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fcgi; uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;`);
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, text);
  const globals = `daemon off; master_process off; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'logs', 'error.log')} warn;`;
  return ['nginx', ['-p', `${dir}/`, '-c', file, '-g', globals]];
}

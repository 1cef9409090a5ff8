/**
 * The usual end-to-end setup in one call: a real key, a real JWKS server, a
 * recording upstream and the real `scopegate serve` process between them, all
 * on 127.0.0.1 and torn down with the test.
 */
import type { Test } from 'tap';
import { testConfigYaml, type TestConfigOptions } from './config.js';
import { startJwksServer, type JwksServer } from './jwks-server.js';
import { generateKey, jwkOf, type KeyKind, type TestKey } from './keys.js';
import { startSidecar, type Sidecar } from './sidecar.js';
import { claims, signToken, type Json } from './tokens.js';
import { startUpstream, type TestUpstream } from './upstream.js';

export const STACK_AUDIENCE = 'https://api.example.com';

export interface Stack {
  readonly key: TestKey;
  readonly jwks: JwksServer;
  readonly upstream: TestUpstream;
  readonly sidecar: Sidecar;
  /** A valid token from the stack's issuer: scope (space-delimited) plus extra claims. */
  token(scope: string, extra?: Json): string;
}

export interface StackOptions extends Omit<TestConfigOptions, 'issuer' | 'jwksUri' | 'upstream'> {
  readonly issuer: string;
  readonly keyKind?: KeyKind;
  /** Edit the generated YAML before the sidecar starts (e.g. a one-off key). */
  readonly patchYaml?: (yaml: string, upstreamUrl: string) => string;
}

export async function startStack(t: Test, options: StackOptions): Promise<Stack> {
  const key = generateKey(options.keyKind ?? 'p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    await jwks.close();
  });
  const { keyKind, patchYaml, ...config } = options;
  void keyKind;
  const yaml = testConfigYaml({ ...config, jwksUri: jwks.jwksUri, upstream: upstream.url });
  const sidecar = await startSidecar(patchYaml === undefined ? yaml : patchYaml(yaml, upstream.url));
  t.teardown(() => sidecar.stop());
  await sidecar.waitForLog('signing keys loaded');
  return {
    key,
    jwks,
    upstream,
    sidecar,
    token: (scope, extra = {}) => signToken(key, claims(options.issuer, STACK_AUDIENCE, { scope, ...extra })),
  };
}

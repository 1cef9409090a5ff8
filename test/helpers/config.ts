/**
 * Configs for tests, built through the real loader from YAML text, so tests
 * exercise exactly what users write.
 */
import { loadConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { formatConfigIssue } from '../../src/errors.js';

export function configFromYaml(text: string, file = 'test.yaml'): Config {
  const { config, issues } = loadConfigText(text, file);
  if (config === undefined) throw new Error(`test config invalid:\n${issues.map(formatConfigIssue).join('\n')}`);
  return config;
}

export interface TestConfigOptions {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly upstream?: string;
  readonly audiences?: readonly string[];
  readonly algorithms?: readonly string[];
  readonly scopeMatching?: 'exact' | 'hierarchical';
  /** Extra top-level YAML appended verbatim (e.g. a `limits:` block). */
  readonly extra?: string;
  /** Extra `auth:` keys, indented by the caller to two spaces. */
  readonly authExtra?: string;
  /** Route lines, each `KEY: VALUE`, indented by this helper. */
  readonly routes: readonly string[];
  readonly listen?: string;
  readonly adminListen?: string;
}

/** A complete config with one issuer; ports default to 0 (ephemeral) so tests never collide. */
export function testConfigYaml(o: TestConfigOptions): string {
  return `
listen: ${o.listen ?? '127.0.0.1:0'}
admin_listen: ${o.adminListen ?? '127.0.0.1:0'}
upstream:
  url: ${o.upstream ?? 'http://127.0.0.1:9'}
auth:
  issuers:
    - issuer: ${JSON.stringify(o.issuer)}
      jwks_uri: ${JSON.stringify(o.jwksUri)}
      audiences: ${JSON.stringify(o.audiences ?? ['https://api.example.com'])}
      algorithms: ${JSON.stringify(o.algorithms ?? ['RS256', 'ES256', 'PS256', 'EdDSA'])}
  scope_matching: ${o.scopeMatching ?? 'exact'}
  jwks:
    cooldown_s: 1
    timeout_ms: 2000
${o.authExtra ?? ''}
identity_headers:
  subject: x-auth-subject
  scopes: x-auth-scopes
${o.extra ?? ''}
routes:
${o.routes.map((r) => `  ${r}`).join('\n')}
`;
}

export function testConfig(o: TestConfigOptions): Config {
  return configFromYaml(testConfigYaml(o));
}

/** The README's config examples are real: each one loads through the loader. */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { formatConfigIssue } from '../../src/errors.js';
import { makeTestCa } from '../helpers/tls.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

/** Fragments (a catalogue, a resource section) need the rest of a config around them. */
const FRAME = `upstream:
  url: http://127.0.0.1:3000
auth:
  issuers:
    - issuer: https://idp.example.com/
      jwks_uri: https://idp.example.com/.well-known/jwks.json
      audiences: [https://api.example.com]
`;

t.test('every yaml example in the README loads', async (t) => {
  t.ok(blocks.length >= 4, `${blocks.length} examples`);
  // A `tls:` example names files a pod mounts: point them at a throwaway pair made now.
  const ca = makeTestCa();
  t.teardown(() => ca.remove());
  const pair = ca.issue('01');
  const pairFiles = { cert_file: join(ca.dir, 'readme.crt'), key_file: join(ca.dir, 'readme.key') };
  writeFileSync(pairFiles.cert_file, pair.cert);
  writeFileSync(pairFiles.key_file, pair.key);
  for (const [i, block] of blocks.entries()) {
    const complete = /^upstream:/m.test(block);
    let text = (complete ? block : FRAME + block).replace(/^( +)(cert_file|key_file): \S+/gm, (_m, indent: string, key: 'cert_file' | 'key_file') => `${indent}${key}: ${pairFiles[key]}`);
    // A catalogue fragment without routes: route each of its scopes so the lint has nothing to say about them.
    if (!/^routes:/m.test(text)) {
      const names = [...block.matchAll(/^ {2}([^\s#][^:\s]*(?::[^:\s]+)*):/gm)].map((m) => m[1] as string);
      text += `routes:\n${names.map((n, k) => `  GET /r${k}: ${JSON.stringify(n)}`).join('\n')}\n`;
    }
    const { config, issues } = loadConfigText(text, `README example ${i + 1}`);
    const errors = issues.filter((x) => x.severity === 'error').map(formatConfigIssue);
    t.same(errors, [], `example ${i + 1} has no errors`);
    t.ok(config, `example ${i + 1} loads`);
  }
});

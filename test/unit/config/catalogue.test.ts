/** The scope catalogue, RFC 9728 resource, `respond:` routes and the least-privilege lint in the loader. */
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { formatConfigIssue } from '../../../src/errors.js';

const BASE = `upstream:
  url: http://127.0.0.1:3000
auth:
  issuers:
    - issuer: https://idp.example.com/
      jwks_uri: https://idp.example.com/jwks
      audiences: [https://api.example.com]
`;
const load = (text: string) => {
  const { config, issues } = loadConfigText(BASE + text, 'c.yaml');
  return { config, errors: issues.filter((i) => i.severity === 'error').map(formatConfigIssue), warnings: issues.filter((i) => i.severity === 'warning').map(formatConfigIssue) };
};

t.test('a catalogue is parsed with its flags and defaults', async (t) => {
  const { config, errors } = load(`scopes:
  person:read:
    description: Read people
    display_name: People
    default: on
  user:read:people:
    description: DEPRECATED, use person:read instead
    deprecated: true
    replaced_by: person:read
  api:access:
    required: true
  bare:
routes:
  GET /people: person:read
  GET /x: bare
`);
  t.same(errors, []);
  const c = config!.catalogue!;
  t.same(c.map((s) => s.name), ['person:read', 'user:read:people', 'api:access', 'bare']);
  t.match(c[0], { description: 'Read people', displayName: 'People', defaultOn: true, discoverable: true, required: false, deprecated: false, destructive: false });
  t.match(c[1], { deprecated: true, replacedBy: 'person:read' });
  t.match(c[2], { required: true, description: undefined });
  t.match(c[3], { name: 'bare', description: undefined });
  t.equal(load('routes:\n  GET /x: a\n').config!.catalogue, undefined, 'no catalogue: any scope string goes');
});

t.test('catalogue errors carry positions', async (t) => {
  const { errors } = load(`scopes:
  a:
    replaced_by: b
  b:
    deprecated: true
    replaced_by: c
  c:
    deprecated: true
    replaced_by: nowhere
  d:
    colour: red
  e:
    required: yes please
routes:
  GET /x: a
  GET /y: { any_of: [a, missing] }
`);
  t.match(errors, [
    /^c\.yaml:10:18: scopes\.a\.replaced_by: only a deprecated scope has a replacement/,
    /^c\.yaml:13:18: scopes\.b\.replaced_by: "c" is itself deprecated/,
    /^c\.yaml:16:18: scopes\.c\.replaced_by: "nowhere" is not in the scopes catalogue/,
    /^c\.yaml:18:5: scopes\.d\.colour: unknown key "colour"/,
    /^c\.yaml:20:15: scopes\.e\.required: must be true or false/,
    /^c\.yaml:23:3: routes\."GET \/y": scope "missing" is not in the scopes catalogue/,
  ]);
  t.equal(errors.length, 6, 'one error per problem');
});

t.test('resource (RFC 9728) defaults its authorization servers to the issuers', async (t) => {
  const { config, errors } = load(`resource:
  identifier: https://api.example.com/v1
  name: Example
routes:
  GET /x: a
`);
  t.same(errors, []);
  t.same(config!.resource, { identifier: 'https://api.example.com/v1', name: 'Example', documentation: undefined, authorizationServers: ['https://idp.example.com/'] });
  t.match(load('resource:\n  identifier: ftp://x\nroutes:\n  GET /x: a\n').errors, [/resource\.identifier: must be an http/]);
  t.match(load('resource:\n  name: x\nroutes:\n  GET /x: a\n').errors, [/resource: missing required key "identifier"/]);
});

t.test('respond: token_info', async (t) => {
  t.equal(load('routes:\n  GET /me: { auth: token, respond: token_info }\n').config!.routes[0]!.respond, 'token_info');
  t.match(load('routes:\n  GET /me: { auth: none, respond: token_info }\n').errors, [/cannot be \{ auth: none \}/]);
  t.match(load('routes:\n  POST /me: { auth: token, respond: token_info }\n').errors, [/answers GET \(and HEAD\) only/]);
  t.match(load('routes:\n  GET /me: { auth: token, respond: echo }\n').errors, [/respond: must be one of token_info/]);
});

t.test('least-privilege lint: warnings, not errors', async (t) => {
  const { config, errors, warnings } = load(`scopes:
  org:read: { description: Read orgs }
  projects:write: { description: Change projects, destructive: true }
  user:read:people: { deprecated: true, replaced_by: person:read }
  person:read:
  unused:thing:
routes:
  POST /orgs: org:read
  GET /publish: projects:write
  GET /legacy: user:read:people
  "* /anything": { auth: token }
  GET /people: person:read
`);
  t.same(errors, []);
  t.ok(config, 'warnings do not stop the config from loading');
  t.match(warnings, [
    /scopes\."unused:thing": no route requires this scope/,
    /routes\."POST \/orgs": POST is protected only by read scope \(org:read\)/,
    /routes\."GET \/publish": GET requires the destructive scope projects:write/,
    /routes\."GET \/legacy": requires the deprecated scope "user:read:people"; require "person:read"/,
    /routes\."\* \/anything": "\*" allows every method/,
  ]);
  t.equal(warnings.length, 5, 'a deprecated scope whose replacement is used is not "unused"');
});

/**
 * config/scopegate.schema.json, generated from the loader's own tables: the
 * section rows (sections.ts), the value readers' schemas, the route keys
 * (routes.ts) and the catalogue rows (catalogue.ts). A test checks the
 * committed file equals this; `node scripts/gen-schema.mjs` rewrites it.
 */
import { objectSchema } from './fields.js';
import type { JsonSchema } from './readers.js';
import { ROUTE_DEFS } from './routes.js';
import { TOP } from './sections.js';
import { VALUE_DEFS } from './values.js';

const DESCRIPTION =
  'OAuth 2.0 scope enforcement sidecar. Unknown keys are errors. The loader (src/config/load.ts) is authoritative and also checks what JSON Schema cannot: route path templates, route conflicts, reserved identity header names, and headers_timeout_ms <= request_timeout_ms.';

/** The JSON Schema (draft 2020-12) of a scopegate config, for editors and CI linters. */
export function configJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:scopegate:config:v1',
    title: 'scopegate config (version 1)',
    description: DESCRIPTION,
    ...withAuthzOnly(objectSchema(TOP)),
    $defs: {
      listen: VALUE_DEFS.listen,
      scope: VALUE_DEFS.scope,
      scopeList: ROUTE_DEFS.scopeList,
      headerName: VALUE_DEFS.headerName,
      requirement: ROUTE_DEFS.requirement,
      mode: ROUTE_DEFS.mode,
    },
  };
}

/**
 * `upstream` is required unless the config is authz-only: `authz_listen` set
 * and `listen` left out (the loader's rule, load.ts).
 */
function withAuthzOnly(top: JsonSchema): JsonSchema {
  const required = (top['required'] as string[] | undefined) ?? [];
  return {
    ...top,
    required: required.filter((key) => key !== 'upstream'),
    // Each branch names the keys it requires under `properties` (ajv strict mode wants them declared where required).
    anyOf: [
      { properties: { upstream: true }, required: ['upstream'] },
      {
        properties: { authz_listen: true },
        required: ['authz_listen'],
        not: { anyOf: [{ properties: { listen: true }, required: ['listen'] }, { properties: { upstream: true }, required: ['upstream'] }] },
      },
    ],
  };
}

/** The file's text: two-space JSON with a final newline, non-ASCII escaped as the committed file has it. */
export function configJsonSchemaText(): string {
  const json = JSON.stringify(configJsonSchema(), null, 2).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${json}\n`;
}

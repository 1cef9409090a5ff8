#!/usr/bin/env node
/**
 * Writes config/scopegate.schema.json from the loader's tables
 * (src/config/json-schema.ts). Run after `npm run build`:
 *   npm run build && node scripts/gen-schema.mjs
 * test/unit/config/json-schema.test.ts fails while the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { configJsonSchemaText } = await import('../dist/config/json-schema.js');
const target = fileURLToPath(new URL('../config/scopegate.schema.json', import.meta.url));
writeFileSync(target, configJsonSchemaText());
console.log(`wrote ${target}`);

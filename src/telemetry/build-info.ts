/** scopegate_build_info{version,node} = 1: which release and runtime a scrape came from. */
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

/** package.json's version, read once (the file sits two levels above src/telemetry and dist/telemetry). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const VERSION = packageVersion();

export function registerBuildInfo(registry: Registry): void {
  const gauge = new Gauge({ name: 'scopegate_build_info', help: 'Always 1; the labels name the scopegate version and the Node.js runtime.', labelNames: ['version', 'node'] as const, registers: [registry] });
  gauge.set({ version: VERSION, node: process.version }, 1);
}

/**
 * The scope catalogue of an imported config: every scope of every flow of every
 * oauth2 scheme, with its description (the first non-empty one when flows
 * disagree), and the flows' URLs as hints for filling in auth.issuers.
 */
import { isValidScope } from './security.js';
import { isObject, oneLine, quote, stringField, type JsonObject } from './spec.js';

export interface CatalogueEntry {
  description: string;
  comment?: string;
}

export const NO_DESCRIPTION = '(no description in the spec)';

/** The scope maps of every flow of an oauth2 scheme → catalogue; flow URLs → issuer hints. */
export function readFlows(name: string, scheme: JsonObject, catalogue: Map<string, CatalogueEntry>, hints: string[], warnings: string[]): void {
  const flows = isObject(scheme.flows) ? scheme.flows : {};
  for (const [flowName, flow] of Object.entries(flows)) {
    if (!isObject(flow)) continue;
    const url = stringField(flow, 'tokenUrl') ?? stringField(flow, 'authorizationUrl') ?? stringField(flow, 'deviceAuthorizationUrl');
    if (url !== undefined) hints.push(`${oneLine(name)} (oauth2 ${oneLine(flowName)}): ${oneLine(url)}`);
    const scopeMap = isObject(flow.scopes) ? flow.scopes : {};
    for (const [scope, rawDescription] of Object.entries(scopeMap)) {
      if (!isValidScope(scope)) {
        warnings.push(`security scheme ${quote(name)} flow ${oneLine(flowName)}: scope ${quote(scope)} is not a valid OAuth scope (RFC 6749 §3.3): left out of the catalogue`);
        continue;
      }
      const description = typeof rawDescription === 'string' ? oneLine(rawDescription, 500) : '';
      const existing = catalogue.get(scope);
      if (existing === undefined) catalogue.set(scope, { description: description === '' ? NO_DESCRIPTION : description });
      else if (existing.description === NO_DESCRIPTION && description !== '') existing.description = description;
    }
  }
}

/**
 * The scope catalogue of an imported config: every scope of every flow of every
 * oauth2 scheme, with its description (the first non-empty one when flows
 * disagree), and the flows' URLs as hints for filling in auth.issuers.
 */
import { isValidScope, type SchemeInfo } from './security.js';
import { isObject, oneLine, quote, resolveRef, stringField, type JsonObject } from './spec.js';

export interface CatalogueEntry {
  description: string;
  comment?: string;
}

export const NO_DESCRIPTION = '(no description in the spec)';

export interface SchemesRead {
  /** Every scheme with a "type", by name: whether it is OAuth, and how to name it. */
  readonly schemes: Map<string, SchemeInfo>;
  readonly catalogue: Map<string, CatalogueEntry>;
  /** Flow and openIdConnect URLs, one line each, for the auth comment. */
  readonly issuerHints: string[];
}

/** components.securitySchemes → schemes, the catalogue of their flows' scopes, and issuer hints. */
export function readSchemes(spec: JsonObject, warnings: string[]): SchemesRead {
  const components = isObject(spec.components) ? spec.components : {};
  const rawSchemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const schemes = new Map<string, SchemeInfo>();
  const catalogue = new Map<string, CatalogueEntry>();
  const issuerHints: string[] = [];
  for (const [name, raw] of Object.entries(rawSchemes)) {
    const resolved = resolveRef(spec, raw);
    if ('error' in resolved) {
      warnings.push(`security scheme ${quote(name)}: ${resolved.error}; operations requiring it cannot be enforced`);
      continue;
    }
    const scheme = resolved.value;
    const type = isObject(scheme) ? stringField(scheme, 'type') : undefined;
    if (!isObject(scheme) || type === undefined) {
      warnings.push(`security scheme ${quote(name)} has no "type": operations requiring it cannot be enforced`);
      continue;
    }
    if (type === 'oauth2') {
      schemes.set(name, { oauth: true, label: 'oauth2' });
      readFlows(name, scheme, catalogue, issuerHints, warnings);
    } else if (type === 'openIdConnect') {
      schemes.set(name, { oauth: true, label: 'openIdConnect' });
      const url = stringField(scheme, 'openIdConnectUrl');
      issuerHints.push(`${oneLine(name)} (openIdConnect): ${url === undefined ? 'no openIdConnectUrl' : oneLine(url)}${url === undefined ? '' : ' (its "issuer" and "jwks_uri" are the values to use)'}`);
    } else {
      const detail = type === 'http' ? `http ${oneLine(stringField(scheme, 'scheme') ?? '?')}` : type === 'apiKey' ? `apiKey in ${oneLine(stringField(scheme, 'in') ?? '?')}` : oneLine(type);
      schemes.set(name, { oauth: false, label: detail });
    }
  }
  return { schemes, catalogue, issuerHints };
}

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

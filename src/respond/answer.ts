/**
 * The responses scopegate writes itself for a planned action: a deny, the
 * RFC 9728 metadata document, token info. The proxy listener and `explain`
 * both write through answer(), so what explain shows is what a client gets.
 */
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import type { Allow, Deny } from '../policy/decision.js';
import type { DiscoveryAction } from '../policy/plan.js';
import { sendDeny } from './deny.js';
import { sendDiscovery, type Discovery } from './discovery.js';
import { createTokenInfo, type TokenInfo } from './token-info.js';

/** The actions scopegate answers itself: discovery, deny, and token_info (an Allow whose kind says so). */
export type SelfAnswered = DiscoveryAction | Deny | Allow;

export interface Answers {
  /**
   * Write the response for `action`; returns its status. HEAD gets the headers only.
   * Throws on a token_info action without a token (config loading forbids it: fail closed).
   */
  answer(res: ServerResponse, action: SelfAnswered, head: boolean): number;
}

/** `discovery` is the planner's: its URL goes into every Bearer challenge (RFC 9728 §5.1). */
export function createAnswers(config: Config, discovery: Discovery | undefined): Answers {
  const realm = config.auth.realm;
  const resourceMetadata = discovery?.url;
  const tokenInfo: TokenInfo = createTokenInfo(config);
  return {
    answer(res, action, head) {
      switch (action.kind) {
        case 'deny':
          sendDeny(res, action, realm, resourceMetadata);
          return action.status;
        case 'discovery':
          sendDiscovery(res, action.discovery, head);
          return 200;
        default:
          // A forward is the upstream's to answer. Config loading forbids `auth: none` on
          // token info, so its token is always present; fail closed if not.
          if (action.kind !== 'token_info' || action.token === undefined) throw new Error(`cannot answer a ${action.kind} action`);
          tokenInfo.send(res, action.token, head);
          return 200;
      }
    },
  };
}

/**
 * The Host check (RFC 9112 §3.2): `Host = uri-host [ ":" port ]` with RFC 3986 §3.2.2's
 * uri-host, so that a value an upstream would split, re-parse or build a URL from
 * differently (a space, a path, userinfo, a comma list, a port with letters) is refused
 * before it can be forwarded as `Host` or `X-Forwarded-Host`.
 *
 * Accepted: a reg-name of unreserved characters, percent-escapes and sub-delims other
 * than `,` (a list separator to every proxy that folds headers); an IPv4 address (a
 * reg-name syntactically); a bracketed IPv6 address; then an optional `:` and 1+ digits.
 * The empty value stays accepted (RFC 9112 §3.2 lets a client send it). One pass, no
 * allocation except for the rare bracketed address.
 */
import { isIPv6 } from 'node:net';

/** RFC 3986 unreserved and sub-delims without `,`: one flag per ASCII code. */
const REG_NAME = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) REG_NAME[c] = 1; // 0-9
for (let c = 0x41; c <= 0x5a; c++) REG_NAME[c] = 1; // A-Z
for (let c = 0x61; c <= 0x7a; c++) REG_NAME[c] = 1; // a-z
for (const ch of "-._~!$&'()*+;=") REG_NAME[ch.charCodeAt(0)] = 1;

const COLON = 0x3a;
const PERCENT = 0x25;

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** `:` followed by one or more digits from `from` to the end (nothing at all is fine too). */
function isPortSuffix(value: string, from: number): boolean {
  if (from === value.length) return true;
  if (value.charCodeAt(from) !== COLON || from + 1 === value.length) return false;
  for (let i = from + 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Whether a Host header value is `uri-host [ ":" port ]`. */
export function isValidHost(value: string): boolean {
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    const close = value.indexOf(']');
    return close > 1 && isIPv6(value.slice(1, close)) && isPortSuffix(value, close + 1);
  }
  let i = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === COLON) break;
    if (c === PERCENT) {
      if (!isHexDigit(value.charCodeAt(i + 1)) || !isHexDigit(value.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c >= 128 || REG_NAME[c] !== 1) {
      return false;
    }
  }
  return isPortSuffix(value, i);
}

import t from 'tap';
import { makeCertificate, nginxEscape } from '../../helpers/certs.js';
import { checkCertificateBinding, clientCertificateHash, lastXfccElement, type CertHeaderFormat } from '../../../src/auth/mtls.js';

const client = makeCertificate('client');
const stranger = makeCertificate('stranger');

function check(values: readonly string[], format: CertHeaderFormat, x5t = client.x5t): string {
  const r = checkCertificateBinding(values, format, x5t);
  return r.ok ? 'ok' : r.code;
}

t.test('xfcc: Envoy with a hex Hash of the DER', async (t) => {
  t.equal(check([`Hash=${client.hex}`], 'xfcc'), 'ok');
  t.equal(check([`Hash=${client.hex.toUpperCase()}`], 'xfcc'), 'ok', 'hex in upper case');
  t.equal(check([`By=spiffe://cluster.local/ns/a/sa/api;Hash=${client.hex};Subject="CN=client,O=Example\\, Inc.";URI=spiffe://x`], 'xfcc'), 'ok');
  t.equal(check([`Hash=${stranger.hex}`], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISMATCH', 'another certificate');
  t.equal(check([`hash=${client.hex}`], 'xfcc'), 'ok', 'keys are case-insensitive');
});

t.test('xfcc: Istio multi-field element, quoted values holding , ; = and \\"', async (t) => {
  const subject = 'Subject="CN=client,O=Example \\"Inc\\";OU=a=b"';
  const istio = `By=spiffe://cluster.local/ns/default/sa/api;Hash=${client.hex};${subject};URI=spiffe://cluster.local/ns/default/sa/client;DNS=client.local`;
  t.equal(check([istio], 'xfcc'), 'ok');
  const element = lastXfccElement(istio)!;
  t.equal(element.get('subject'), 'CN=client,O=Example "Inc";OU=a=b');
  t.equal(element.get('uri'), 'spiffe://cluster.local/ns/default/sa/client');
  t.equal(check([istio.replace(client.hex, stranger.hex)], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISMATCH');
});

t.test('xfcc: the last element counts (the nearest proxy)', async (t) => {
  t.equal(check([`Hash=${stranger.hex};Subject="a,b",By=x;Hash=${client.hex}`], 'xfcc'), 'ok');
  t.equal(check([`Hash=${client.hex},Hash=${stranger.hex}`], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISMATCH', 'an earlier hop\'s certificate does not count');
  t.equal(check([`Hash=${stranger.hex}`, `Hash=${client.hex}`], 'xfcc'), 'ok', 'two header lines are one list');
  t.equal(check([`Hash=${client.hex}`, `Hash=${stranger.hex}`], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISMATCH');
  t.equal(check([`Hash=${client.hex},By=spiffe://x`], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISSING', 'a last element without a certificate');
});

t.test('xfcc: without Hash, the URL-encoded PEM in Cert is hashed', async (t) => {
  t.equal(check([`By=x;Cert="${encodeURIComponent(client.pem)}";Subject="CN=client"`], 'xfcc'), 'ok');
  t.equal(check([`Cert=${encodeURIComponent(client.pem)}`], 'xfcc'), 'ok', 'unquoted');
  t.equal(check([`Cert=${encodeURIComponent(stranger.pem)}`], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISMATCH');
  t.equal(check([`Hash=${client.hex};Cert=${encodeURIComponent(stranger.pem)}`], 'xfcc'), 'ok', 'Hash wins when both are there');
});

t.test('xfcc: none, or unreadable', async (t) => {
  t.equal(check([], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISSING', 'no header');
  t.equal(check([''], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISSING', 'empty header');
  t.equal(check(['By=spiffe://x;URI=spiffe://y'], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MISSING', 'no Hash, no Cert');
  for (const bad of [
    `Hash=${client.hex};Subject="open`, // an unterminated quote
    `Hash=${client.hex.slice(2)}`, // not 32 bytes
    `Hash=${client.x5t}`, // base64url where hex belongs
    `Hash=${client.hex};Hash=${client.hex}`, // a key given twice
    `Hash${client.hex}`, // no '='
    `Hash="${client.hex}"x`, // text after the closing quote
    'Cert=%E0%A4%A', // malformed percent-encoding
    `Cert=${encodeURIComponent('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----')}`,
    `Cert=${encodeURIComponent(client.pem + stranger.pem)}`, // two certificates
  ]) t.equal(check([bad], 'xfcc'), 'ERR_AUTH_SENDER_CERT_MALFORMED', bad.slice(0, 60));
});

t.test('pem: nginx $ssl_client_escaped_cert', async (t) => {
  t.equal(check([nginxEscape(client.pem)], 'pem'), 'ok', 'nginx escaping (+ / = left raw)');
  t.equal(check([encodeURIComponent(client.pem)], 'pem'), 'ok', 'fully URL-encoded');
  t.equal(check([nginxEscape(stranger.pem)], 'pem'), 'ERR_AUTH_SENDER_CERT_MISMATCH', 'another certificate');
  t.equal(check([], 'pem'), 'ERR_AUTH_SENDER_CERT_MISSING', 'no header');
  t.equal(check([''], 'pem'), 'ERR_AUTH_SENDER_CERT_MISSING', 'nginx sends an empty value without a client certificate');
  t.equal(check([nginxEscape(client.pem), nginxEscape(client.pem)], 'pem'), 'ERR_AUTH_SENDER_CERT_MALFORMED', 'two header lines are ambiguous');
  t.equal(check([`Hash=${client.hex}`], 'pem'), 'ERR_AUTH_SENDER_CERT_MALFORMED', 'an XFCC value where a PEM belongs');
  t.equal(check([nginxEscape(client.pem).replace('-----BEGIN', '-----BEGIN X')], 'pem'), 'ERR_AUTH_SENDER_CERT_MALFORMED');
});

t.test('clientCertificateHash: the DER digest, the same from every format', async (t) => {
  const want = Buffer.from(client.hex, 'hex');
  for (const [values, format] of [
    [[`Hash=${client.hex}`], 'xfcc'],
    [[`Cert=${encodeURIComponent(client.pem)}`], 'xfcc'],
    [[nginxEscape(client.pem)], 'pem'],
  ] as const) {
    const h = clientCertificateHash(values, format);
    t.ok(Buffer.isBuffer(h) && h.equals(want), `${format} ${values[0]!.slice(0, 12)}`);
  }
});

/**
 * `tls:` as read (README, TLS): the listener on `listen` speaks HTTP/1.1 over TLS.
 * Beyond the rows, the files themselves are read and checked as a pair here, so an
 * unreadable file, a file that is not PEM, an encrypted key or a key of another
 * certificate is a config error at the option that names the file: at start, in
 * `scopegate check`, and on a config reload. The running listener re-reads the
 * pair when the files change (server/tls.ts).
 */
import { section, type Rows, type SectionReader } from './fields.js';
import { oneOf, reader, str } from './readers.js';
import type { TlsConfig, TlsVersion } from './schema.js';
import { childPath, findValue } from './yaml-reader.js';
import { readTlsPair } from '../server/tls-pair.js';

export const TLS: Rows<TlsConfig> = {
  certFile: {
    key: 'cert_file',
    read: str({ nonEmpty: true }),
    required: true,
    doc: 'PEM certificate served on `listen` (intermediates after it), e.g. tls.crt of a mounted kubernetes.io/tls Secret. Re-read when it changes and on SIGHUP.',
  },
  keyFile: { key: 'key_file', read: str({ nonEmpty: true }), required: true, doc: 'Its unencrypted PEM private key, e.g. tls.key of the Secret. Re-read with cert_file.' },
  // RFC 9325 §3.1.1: TLS 1.2 and 1.3 only; 1.2 still serves older clients.
  minVersion: { key: 'min_version', read: oneOf<TlsVersion>(['TLSv1.2', 'TLSv1.3']), default: 'TLSv1.2', doc: 'Lowest TLS version accepted: TLSv1.2 or TLSv1.3.' },
};

const plain = section(TLS);

/** The section, then the pair on disk: a problem is reported at the option naming the file at fault. */
export const readTls: SectionReader<TlsConfig> = Object.assign(
  reader<TlsConfig>(plain.schema, (node, path, r) => {
    const tls = plain(node, path, r);
    if (tls?.certFile === undefined || tls.keyFile === undefined) return tls;
    const pair = readTlsPair(tls.certFile, tls.keyFile);
    if (!pair.ok) r.error(findValue(node, pair.option), childPath(path, pair.option), pair.message);
    return tls;
  }),
  { rows: TLS },
);

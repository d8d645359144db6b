import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeDurably } from '../config/durable-file.js';

const run = promisify(execFile);

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, shown on the console so the installer can check what the browser warns about. */
  fingerprint: string;
  generated: boolean;
}

export class TlsError extends Error {
  override name = 'TlsError';
}

/**
 * The HTTPS certificate: generated once on first boot (EC P-256, 10 years,
 * self-signed), replaceable by an uploaded one. openssl is run with fixed
 * arguments only: no user string is ever part of its command line.
 */
export async function ensureCertificate(dir: string): Promise<TlsMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { ...checkPair(cert, key), generated: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof TlsError)) throw e;
  }
  const tmpKey = join(dir, '.new-key.pem');
  const tmpCert = join(dir, '.new-cert.pem');
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '3650', '-subj', '/CN=dvr', '-addext', 'subjectAltName=DNS:dvr,DNS:localhost,IP:127.0.0.1',
      '-keyout', tmpKey, '-out', tmpCert,
    ], { timeout: 30_000 });
    const cert = await readFile(tmpCert, 'utf8');
    const key = await readFile(tmpKey, 'utf8');
    const checked = checkPair(cert, key);
    await writeDurably(keyFile, key, 0o600);
    await writeDurably(certFile, cert, 0o644);
    return { ...checked, generated: true };
  } finally {
    await unlink(tmpKey).catch(() => {});
    await unlink(tmpCert).catch(() => {});
  }
}

/** Installs an uploaded certificate and key after checking they parse, match, and are in date. */
export async function installCertificate(dir: string, cert: string, key: string, now = Date.now()): Promise<TlsMaterial> {
  const checked = checkPair(cert, key);
  const x = new X509Certificate(cert);
  if (Date.parse(x.validTo) < now) throw new TlsError(`the certificate expired on ${x.validTo}`);
  await writeDurably(join(dir, 'key.pem.new'), key, 0o600);
  await writeDurably(join(dir, 'cert.pem.new'), cert, 0o644);
  // Key first: a crash between the renames leaves new key + old cert, which checkPair refuses and regenerates.
  await rename(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
  await rename(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
  return { ...checked, generated: false };
}

function checkPair(cert: string, key: string): { cert: string; key: string; fingerprint: string } {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (e) {
    throw new TlsError(`not a PEM certificate: ${(e as Error).message}`);
  }
  let pub: string;
  try {
    pub = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'pem' }).toString();
  } catch (e) {
    throw new TlsError(`not a PEM private key: ${(e as Error).message}`);
  }
  if (x.publicKey.export({ type: 'spki', format: 'pem' }).toString() !== pub) {
    throw new TlsError('the private key does not belong to the certificate');
  }
  return { cert, key, fingerprint: x.fingerprint256 };
}

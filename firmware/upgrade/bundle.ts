/**
 * The firmware bundle: what `scripts/firmware-bundle.ts` makes and the box
 * accepts.
 *
 *   DVR-FIRMWARE-BUNDLE 1\n
 *   <manifest: one line of JSON>\n
 *   <signature: one line of JSON {"key": <key id>, "signature": <base64>}>\n
 *   <payload: exactly manifest.payload.size bytes, the gzip of an archive (archive.ts)>
 *
 * The Ed25519 signature is over the magic line and the manifest's bytes as
 * sent; the manifest carries the payload's SHA-256, so the signature covers
 * the payload too. The header comes first so a wrong board, an old version
 * or a foreign key is refused before the payload is even received.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { SchemaError, array, int, literal, object, string, type Infer } from '../core/schema.js';
import { UpgradeError } from './errors.js';

export const MAGIC = Buffer.from('DVR-FIRMWARE-BUNDLE 1\n');
export const PRODUCT = 'dvr-firmware';
/** The largest upload the box takes: the bundle, header included. */
export const MAX_BUNDLE_BYTES = 512 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 16 * 1024;
const MAX_SIGNATURE_BYTES = 1024;

const VERSION = /^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:-([0-9A-Za-z.-]{1,40}))?$/;
const boardName = string({ min: 1, max: 64, pattern: /^[a-z0-9][a-z0-9_-]*$/ });

export const manifestSchema = object({
  product: literal(PRODUCT),
  version: string({ min: 5, max: 64, pattern: VERSION }),
  boards: array(boardName, { min: 1, max: 64 }),
  created: string({ min: 1, max: 40 }),
  payload: object({ size: int({ min: 1, max: MAX_BUNDLE_BYTES }), sha256: string({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/ }) }),
});
export type Manifest = Infer<typeof manifestSchema>;

const signatureSchema = object({ key: string({ min: 16, max: 16, pattern: /^[0-9a-f]{16}$/ }), signature: string({ min: 1, max: 200 }) });

export interface BundleHeader {
  manifest: Manifest;
  /** The id of the key it says it was signed with. */
  keyId: string;
  signature: Buffer;
  /** The bytes the signature is over. */
  signed: Buffer;
}

/** A public key as the board profile holds it: the base64 between a PEM public key's lines (SPKI DER). */
export function publicKeyFromBase64(b64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(b64.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 public key (${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

/** A short, stable name of a public key: the first 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

/** Semantic-version order (pre-releases before their release); null when either is not a version. */
export function compareVersions(a: string, b: string): number | null {
  const [ma, mb] = [VERSION.exec(a), VERSION.exec(b)];
  if (!ma || !mb) return null;
  for (let i = 1; i <= 3; i++) {
    const d = Number(ma[i]) - Number(mb[i]);
    if (d) return Math.sign(d);
  }
  if (ma[4] === mb[4]) return 0;
  if (ma[4] === undefined) return 1;
  if (mb[4] === undefined) return -1;
  return ma[4] < mb[4] ? -1 : 1;
}

/**
 * Reads the header from the first bytes of an upload, pushed in chunks.
 * Returns the header and the payload bytes that came with it once the
 * three lines are in; keeps at most the header's ~17 KiB.
 */
export class BundleHeaderReader {
  private buf = Buffer.alloc(0);

  push(chunk: Uint8Array): { header: BundleHeader; rest: Buffer } | null {
    this.buf = Buffer.concat([this.buf, chunk]);
    const magic = this.buf.subarray(0, MAGIC.length);
    if (!MAGIC.subarray(0, magic.length).equals(magic)) throw new UpgradeError('this is not a firmware bundle of this box (no bundle header)');
    const manifestEnd = this.buf.indexOf(0x0a, MAGIC.length);
    if (manifestEnd < 0) return this.waitFor(MAGIC.length + MAX_MANIFEST_BYTES, 'manifest');
    const signatureEnd = this.buf.indexOf(0x0a, manifestEnd + 1);
    if (signatureEnd < 0) return this.waitFor(manifestEnd + 1 + MAX_SIGNATURE_BYTES, 'signature');
    if (manifestEnd - MAGIC.length > MAX_MANIFEST_BYTES) throw new UpgradeError('the bundle manifest is too long');
    const manifest = parseLine(this.buf.subarray(MAGIC.length, manifestEnd), manifestSchema, 'manifest');
    const sig = parseLine(this.buf.subarray(manifestEnd + 1, signatureEnd), signatureSchema, 'signature');
    const header = { manifest, keyId: sig.key, signature: Buffer.from(sig.signature, 'base64'), signed: Buffer.from(this.buf.subarray(0, manifestEnd)) };
    const rest = Buffer.from(this.buf.subarray(signatureEnd + 1));
    this.buf = Buffer.alloc(0);
    return { header, rest };
  }

  private waitFor(limit: number, what: string): null {
    if (this.buf.length > limit) throw new UpgradeError(`the bundle ${what} is too long`);
    return null;
  }
}

function parseLine<T>(bytes: Buffer, schema: { parse(v: unknown): T }, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UpgradeError(`the bundle ${what} is not valid JSON`);
  }
  try {
    return schema.parse(value);
  } catch (e) {
    if (e instanceof SchemaError) throw new UpgradeError(`the bundle ${what} is invalid: ${e.message.slice(0, 300)}`);
    throw e;
  }
}

/** Throws unless one of the trusted keys signed this header. */
export function checkSignature(h: BundleHeader, trusted: readonly KeyObject[]): void {
  if (trusted.length === 0) throw new UpgradeError('this box has no trusted firmware key (the board profile lists none): it accepts no upgrade');
  const key = trusted.find((k) => keyId(k) === h.keyId);
  if (!key) throw new UpgradeError(`the bundle is signed with key ${h.keyId}, which this box does not trust`);
  if (!verify(null, h.signed, key, h.signature)) throw new UpgradeError('the bundle signature is wrong: the bundle was altered or not made with the key it names');
}

/** The header lines of a bundle whose payload is described by `manifest`, signed with `privateKey`. */
export function headerBytes(manifest: Manifest, privateKey: KeyObject): Buffer {
  const signed = Buffer.concat([MAGIC, Buffer.from(JSON.stringify(manifest))]);
  const signature = sign(null, signed, privateKey).toString('base64');
  const id = keyId(createPublicKey(privateKey));
  return Buffer.concat([signed, Buffer.from(`\n${JSON.stringify({ key: id, signature })}\n`)]);
}

/**
 * Makes a signed firmware bundle (firmware/upgrade/) from a directory, the
 * slot as it should be on the box (dist/, board/, package.json, node_modules/):
 *
 *   node dist/scripts/firmware-bundle.js --dir DIR --board NAME [--board NAME...] --key KEY.pem --out FILE [--version V]
 *   node dist/scripts/firmware-bundle.js --new-key KEY.pem
 *
 * The version defaults to DIR/package.json's (the box checks they agree).
 * The key is an Ed25519 private key in PEM, as `openssl genpkey -algorithm
 * ed25519 -out KEY.pem` makes or `--new-key` writes (mode 0600); the public
 * half, printed by `--new-key` or `openssl pkey -in KEY.pem -pubout`, goes
 * into the board profile's `upgrade.keys` (the base64 between its lines).
 * Symlinks (node_modules/.bin) are left out and listed on stderr.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { keyId } from '../firmware/upgrade/bundle.js';
import { directoryEntries, writeBundle } from '../firmware/upgrade/pack.js';

const USAGE = 'usage: firmware-bundle --dir DIR --board NAME [--board NAME...] --key KEY.pem --out FILE [--version V] | firmware-bundle --new-key KEY.pem';

/** The public key as the board profile lists it. */
function profileKey(pem: string): string {
  return (createPublicKey(pem).export({ type: 'spki', format: 'pem' }) as string).replace(/-----[^-]+-----|\s/g, '');
}

/** Runs the script; returns what it printed on stdout. Throws with a one-line reason for bad arguments. */
export async function firmwareBundle(argv: string[], warn: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, board: { type: 'string', multiple: true }, key: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' }, 'new-key': { type: 'string' } },
    strict: true,
  });
  if (values['new-key']) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(values['new-key'], pem, { mode: 0o600, flag: 'wx' });
    return `private key written to ${values['new-key']} (keep it off the box)\nkey id ${keyId(createPublicKey(pem))}; for the board profile's upgrade.keys:\n${profileKey(pem)}\n`;
  }
  const { dir, key, out } = values;
  if (!dir || !key || !out || !values.board?.length) throw new Error(USAGE);
  const version = values.version ?? (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const privateKey = createPrivateKey(readFileSync(key));
  const manifest = await writeBundle({ entries: directoryEntries(dir, (p) => warn(`left out (not a regular file): ${p}`)), version, boards: values.board, privateKey, out });
  return `${out}: version ${manifest.version} for ${manifest.boards.join(', ')}, payload ${manifest.payload.size} bytes, sha256 ${manifest.payload.sha256}, key ${keyId(createPublicKey(privateKey))}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  firmwareBundle(process.argv.slice(2)).then(
    (text) => process.stdout.write(text),
    (e: Error) => {
      process.stderr.write(`firmware-bundle: ${e.message}\n`);
      process.exitCode = 2;
    },
  );
}

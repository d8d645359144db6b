// "Test connection" for the settings page: one short-lived client against the
// broker settings given (saved or about to be), the outcome in words an
// installer can act on. Nothing is published and no will is left behind.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import mqtt from 'mqtt';
import type { Config } from '../config/schema.js';
import { describeFailure } from './dispatch.js';

export type BrokerCheck = { ok: true; ms: number; url: string } | { ok: false; error: string; url: string };

/** The CA for an mqtts:// broker: PEM text in the setting, or the path of a PEM file; undefined: system CAs. */
export async function brokerCa(tls: Config['mqtt']['tls']): Promise<Buffer | undefined> {
  if (!tls.ca) return undefined;
  if (tls.ca.includes('-----BEGIN')) return Buffer.from(tls.ca);
  try {
    return await readFile(tls.ca);
  } catch (e) {
    throw new Error(`mqtt.tls.ca: cannot read ${tls.ca}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export async function checkBroker(cfg: Config['mqtt'], timeoutMs = 5000): Promise<BrokerCheck> {
  // The URL without any user:password@ part, so the answer never carries a secret.
  const url = cfg.url.replace(/\/\/[^@/]*@/, '//');
  let ca: Buffer | undefined;
  try {
    ca = await brokerCa(cfg.tls);
  } catch (e) {
    return { ok: false, error: (e as Error).message, url };
  }
  const started = performance.now();
  return new Promise<BrokerCheck>((resolve) => {
    const client = mqtt.connect(cfg.url, {
      protocolVersion: 5,
      clientId: `dvr-check-${randomBytes(4).toString('hex')}`,
      ...(cfg.username !== null ? { username: cfg.username } : {}),
      ...(cfg.password !== null ? { password: cfg.password } : {}),
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      ...(ca ? { ca } : {}),
      rejectUnauthorized: !cfg.tls.insecure,
    });
    const done = (r: BrokerCheck) => {
      clearTimeout(timer);
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: `no answer from the broker within ${timeoutMs / 1000} s`, url }), timeoutMs);
    client.on('connect', () => done({ ok: true, ms: Math.round(performance.now() - started), url }));
    client.on('error', (err) => done({ ok: false, error: describeFailure(err as Error & { code?: string | number }, cfg.username ?? undefined), url }));
    client.on('close', () => done({ ok: false, error: 'the broker closed the connection', url }));
  });
}

import { X509Certificate } from 'node:crypto';
import { boolean, literal, nullable, object, oneOf, string } from '../../core/schema.js';
import type { ConfigStore } from '../../config/store.js';
import type { AuditLog } from '../audit.js';
import type { ApiTokenStore } from '../auth/tokens.js';
import type { SessionStore } from '../auth/sessions.js';
import type { UserStore } from '../auth/users.js';
import { forbidden, HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';
import { installCertificate, TlsError, type TlsMaterial } from '../tls.js';

/** What a restart is on this board: the firmware process again, or the whole board. */
export const RESTART_KINDS = ['firmware', 'board'] as const;
export type RestartKind = (typeof RESTART_KINDS)[number];

export interface MaintenanceRouteDeps {
  config: ConfigStore;
  audit: AuditLog;
  users: UserStore;
  tokens: ApiTokenStore;
  sessions: SessionStore;
  /** Where cert.pem and key.pem live. */
  tlsDir: string;
  /** The certificate served now. */
  certificate: () => TlsMaterial;
  /** Serves a newly installed certificate to the next connections. */
  useCertificate: (m: TlsMaterial) => void;
  /** Restarts (none: the routes answer 503). Called after the reply is sent. */
  restart?: { kind: RestartKind; run: () => void };
}

/** What the page shows of a certificate: never the key. */
function describe(m: TlsMaterial) {
  const x = new X509Certificate(m.cert);
  return { subject: x.subject, issuer: x.issuer, validFrom: new Date(x.validFrom).toISOString(), validTo: new Date(x.validTo).toISOString(), fingerprint: m.fingerprint, selfSigned: x.subject === x.issuer };
}

const certificateReply = object({
  certificate: object({
    subject: string(),
    issuer: string(),
    validFrom: string().describe('ISO 8601'),
    validTo: string().describe('ISO 8601'),
    fingerprint: string().describe('SHA-256'),
    selfSigned: boolean(),
  }),
});

// The reply must reach the browser before the services it came through stop.
export const AFTER_REPLY_MS = 300;

/**
 * The HTTPS certificate (shown, replaced by an uploaded one without a
 * restart), restart of the firmware or board, and factory reset. Restart
 * and reset are admin-only and need an explicit confirmation in the body;
 * a reset also needs the admin's password again, as a stolen session alone
 * must not wipe the box.
 */
export function addMaintenanceRoutes(router: Router, d: MaintenanceRouteDeps): void {
  router.add({
    method: 'GET', path: '/api/v1/system/certificate', access: 'admin', summary: 'the HTTPS certificate served: subject, issuer, validity, SHA-256 fingerprint',
    response: { json: certificateReply },
    handler: async () => ({ body: { certificate: describe(d.certificate()) } }),
  });

  router.add({
    method: 'PUT', path: '/api/v1/system/certificate', access: 'admin', summary: 'replace the HTTPS certificate with a PEM certificate (chain allowed) and its PEM private key; served from the next connection',
    body: object({ cert: string({ min: 1, max: 65536 }), key: string({ min: 1, max: 16384 }) }),
    maxBodyBytes: 128 * 1024,
    response: { json: certificateReply, description: 'the certificate installed' },
    handler: async ({ body, account, from }) => {
      let m: TlsMaterial;
      try {
        m = await installCertificate(d.tlsDir, body.cert, body.key);
      } catch (e) {
        // TlsError messages name what is wrong, never the key's content.
        if (e instanceof TlsError) throw new HttpError(422, 'invalid', `certificate not installed, the old one stays: ${e.message}`);
        throw e;
      }
      d.useCertificate(m);
      await d.audit.record('setting-changed', account!.name, from, { what: 'https certificate', fingerprint: m.fingerprint });
      return { body: { certificate: describe(m) } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/system/restart', access: 'admin', summary: 'restart the firmware (or the board, where the board profile says so); body {"confirm":"restart"}',
    body: object({ confirm: literal('restart') }),
    response: { status: 202, json: object({ restarting: oneOf(RESTART_KINDS) }), description: 'the restart follows the reply' },
    handler: async ({ account, from }) => {
      const restart = d.restart;
      if (!restart) throw new HttpError(503, 'unavailable', 'this firmware cannot restart itself');
      await d.audit.record('restart', account!.name, from, { kind: restart.kind });
      setTimeout(restart.run, AFTER_REPLY_MS);
      return { status: 202, body: { restarting: restart.kind } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/system/factory-reset', access: 'admin',
    summary:
      'every setting back to the factory defaults and every account and API token removed (recordings stay; the network settings too unless keepNetwork is false); body {"confirm":"factory reset","password":<yours>}; the firmware then restarts',
    body: object({ confirm: literal('factory reset'), password: string({ min: 1, max: 256 }), keepNetwork: boolean().default(true) }),
    response: {
      status: 202,
      json: object({ reset: literal(true), restarting: nullable(oneOf(RESTART_KINDS)).describe('null: this firmware cannot restart itself; the reset applies at the next start') }),
    },
    handler: async ({ body, account, from }) => {
      if (!(await d.users.authenticate(account!.name, body.password))) throw forbidden('wrong password: nothing was reset');
      await d.audit.record('factory-reset', account!.name, from, { keepNetwork: body.keepNetwork });
      // One write: the box is never left half reset. Keeping the network means it stays where the installer can reach it.
      if (body.keepNetwork) await d.config.replace({ ...d.config.factoryDefaults(), network: d.config.get().network });
      else await d.config.reset();
      await d.tokens.eraseAll();
      await d.users.eraseAll();
      d.sessions.endAll();
      if (d.restart) setTimeout(d.restart.run, AFTER_REPLY_MS);
      return { status: 202, body: { reset: true as const, restarting: d.restart?.kind ?? null } };
    },
  });
}

import { array, boolean, int, number, object, oneOf, string, type Schema } from '../../core/schema.js';
import { PRESET_NAME_MAX, PtzError, type Preset, type PtzController } from '../../ptz/controller.js';
import type { AuditLog } from '../audit.js';
import { rightsOn } from '../auth/roles.js';
import type { Account } from '../auth/users.js';
import { forbidden, HttpError, notFound } from '../http/errors.js';
import type { Router } from '../http/router.js';

/** The box's PTZ domes as the page reaches them: by channel. */
export interface PtzByChannel {
  domeOfChannel(channel: string): string | undefined;
  dome(id: string): PtzController;
}

const presetSchema: Schema<Preset> = object({ number: int({ min: 1, max: 255 }), name: string({ max: PRESET_NAME_MAX }) });
const presetsReply = object({ presets: array(presetSchema).describe('by number') });

/** PTZ of a channel's dome (Pelco on RS-485 or ONVIF), for accounts with the `ptz` right on it. */
export function addPtzRoutes(router: Router, d: { ptz: () => PtzByChannel | undefined; audit: AuditLog }): void {
  const dome = (channel: string, account: Account) => {
    if (!rightsOn(account.role, account.channels, channel).includes('ptz')) throw forbidden(`no ptz right on channel ${channel}`);
    const ptz = d.ptz();
    const id = ptz?.domeOfChannel(channel);
    if (!ptz || id === undefined) throw notFound(`channel ${channel} has no PTZ dome`);
    return ptz.dome(id);
  };

  router.add({
    method: 'GET', path: '/api/v1/channels/:channel/ptz', access: 'viewer', summary: "the presets of a channel's PTZ dome (ptz right)",
    response: { json: presetsReply },
    handler: async ({ params, account }) => {
      const c = dome(params.channel!, account!);
      // An ONVIF camera keeps its presets itself: read them afresh when it answers, else what was last read.
      await (c as { refreshPresets?: () => Promise<unknown> }).refreshPresets?.().catch(() => undefined);
      return { body: { presets: c.presets() } };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/channels/:channel/ptz', access: 'viewer', summary: "move, stop, or call a preset of a channel's PTZ dome (ptz right)",
    body: object({
      action: oneOf(['move', 'stop', 'preset'] as const),
      pan: number({ min: -1, max: 1 }).default(0),
      tilt: number({ min: -1, max: 1 }).default(0),
      zoom: number({ min: -1, max: 1 }).default(0),
      preset: int({ min: 1, max: 255 }).optional(),
    }),
    response: { status: 204, description: 'the dome was told' },
    handler: async ({ params, account, body }) => {
      const c = dome(params.channel!, account!);
      try {
        if (body.action === 'move') await c.move(body.pan, body.tilt, body.zoom);
        else if (body.action === 'stop') await c.stop();
        else if (body.preset === undefined) throw new HttpError(422, 'invalid', 'preset: give the preset number');
        else await c.gotoPreset(body.preset);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        // The dome did not answer or refused: the caller is told, the box goes on.
        throw new HttpError(502, 'ptz-failed', (e as Error).message);
      }
      return { status: 204 };
    },
  });

  // Storing, naming and clearing presets changes what every later call does:
  // an operator's job (a viewer with the ptz right may only call them), audited.
  const presetNumber = (raw: string) => {
    if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 255) throw new HttpError(422, 'invalid', `preset number must be 1..255, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };

  router.add({
    method: 'PUT', path: '/api/v1/channels/:channel/ptz/presets/:number', access: 'operator',
    summary: "store where a channel's dome points as preset n with a name (store: true, the default), or only rename preset n (store: false; Pelco domes, whose names the box keeps)",
    body: object({ name: string({ min: 1, max: PRESET_NAME_MAX, pattern: /\S/ }), store: boolean().default(true) }),
    response: { json: presetsReply, description: "the dome's presets now" },
    handler: async ({ params, account, body, from }) => {
      const n = presetNumber(params.number!);
      const c = dome(params.channel!, account!);
      await ptzCall(async () => {
        if (body.store) await c.setPreset(n, body.name);
        else if (!c.renamePreset) throw new PtzError('the camera keeps its preset names: store the preset again with the new name', 'UNSUPPORTED');
        else await c.renamePreset(n, body.name);
      });
      await d.audit.record('setting-changed', account!.name, from, { channel: params.channel, preset: n, name: body.name, stored: body.store });
      return { body: { presets: c.presets() } };
    },
  });

  router.add({
    method: 'DELETE', path: '/api/v1/channels/:channel/ptz/presets/:number', access: 'operator', summary: "clear preset n of a channel's dome",
    response: { json: presetsReply, description: "the dome's presets now" },
    handler: async ({ params, account, from }) => {
      const n = presetNumber(params.number!);
      const c = dome(params.channel!, account!);
      await ptzCall(() => c.clearPreset(n));
      await d.audit.record('setting-changed', account!.name, from, { channel: params.channel, preset: n, cleared: true });
      return { body: { presets: c.presets() } };
    },
  });
}

/** A dome that refuses or does not answer is the caller's news, not the box's failure. */
async function ptzCall(f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof RangeError) throw new HttpError(422, 'invalid', e.message);
    if (e instanceof PtzError && e.code === 'UNSUPPORTED') throw new HttpError(409, 'unsupported', e.message);
    // NOT_SAVED: the head moved but the names were not kept; said so the user can retry.
    if (e instanceof PtzError && e.code === 'NOT_SAVED') throw new HttpError(500, 'not-saved', e.message);
    throw new HttpError(502, 'ptz-failed', (e as Error).message);
  }
}

import { int, number, object, oneOf } from '../../core/schema.js';
import type { PtzController } from '../../ptz/controller.js';
import { rightsOn } from '../auth/roles.js';
import type { Account } from '../auth/users.js';
import { forbidden, HttpError, notFound } from '../http/errors.js';
import type { Router } from '../http/router.js';

/** The box's PTZ domes as the page reaches them: by channel. */
export interface PtzByChannel {
  domeOfChannel(channel: string): string | undefined;
  dome(id: string): PtzController;
}

/** PTZ of a channel's dome (Pelco on RS-485 or ONVIF), for accounts with the `ptz` right on it. */
export function addPtzRoutes(router: Router, d: { ptz: () => PtzByChannel | undefined }): void {
  const dome = (channel: string, account: Account) => {
    if (!rightsOn(account.role, account.channels, channel).includes('ptz')) throw forbidden(`no ptz right on channel ${channel}`);
    const ptz = d.ptz();
    const id = ptz?.domeOfChannel(channel);
    if (!ptz || id === undefined) throw notFound(`channel ${channel} has no PTZ dome`);
    return ptz.dome(id);
  };

  router.add({
    method: 'GET', path: '/api/v1/channels/:channel/ptz', access: 'viewer', summary: "the presets of a channel's PTZ dome (ptz right)",
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
}

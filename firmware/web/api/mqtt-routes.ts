import { boolean, int, json, object, string } from '../../core/schema.js';
import { SchemaError } from '../../core/schema.js';
import { configSchema } from '../../config/schema.js';
import type { ConfigStore } from '../../config/store.js';
import { checkBroker } from '../../mqtt/broker-check.js';
import { HttpError } from '../http/errors.js';
import type { Router } from '../http/router.js';
import { keepSecrets } from './config-routes.js';

/**
 * "Test connection" of the MQTT settings: the body holds the settings as the
 * page shows them (any left out are the saved ones, a password of *** is the
 * saved one), validated as the config would validate them, and tried once.
 * Nothing is saved: the page saves as for any other setting.
 */
export function addMqttRoutes(router: Router, d: { config: ConfigStore; timeoutMs?: number }): void {
  router.add({
    method: 'POST', path: '/api/v1/mqtt/test', access: 'admin', summary: 'try the MQTT broker settings in the body (unsaved; missing ones and *** are the saved ones) and say whether the broker accepts them',
    body: json(),
    response: {
      json: object({
        ok: boolean().describe('the broker accepted the settings'),
        url: string().describe('the broker, without any user:password@'),
        ms: int({ min: 0 }).optional().describe('when ok: how long connecting took'),
        error: string().optional().describe('when not ok: what the broker or the network said'),
      }),
    },
    handler: async ({ body }) => {
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(422, 'invalid', 'give the MQTT settings as an object, e.g. {"url":"mqtt://broker:1883"}');
      const saved = d.config.get();
      let mqtt;
      try {
        mqtt = configSchema.parse({ ...saved, mqtt: keepSecrets({ ...saved.mqtt, ...body }, saved.mqtt) }).mqtt;
      } catch (e) {
        if (e instanceof SchemaError) throw new HttpError(422, 'invalid', e.message);
        throw e;
      }
      return { body: await checkBroker(mqtt, d.timeoutMs ?? 5000) };
    },
  });
}

import { boolean, object, string } from '../../core/schema.js';
import { DiskCommandError, type DiskTools } from '../../storage/commands.js';
import type { AuditLog } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import type { Router } from '../http/router.js';

/**
 * The recording disks from the page: the same tools as `dvr disk`. Only
 * administrators: a format erases evidence, and the list names devices and
 * paths of the box.
 */
export function addDiskRoutes(router: Router, d: { disks: () => DiskTools | undefined; audit: AuditLog }): void {
  const tools = () => {
    const t = d.disks();
    if (!t) throw new HttpError(503, 'no-disks', 'no recording disk is running');
    return t;
  };

  router.add({
    method: 'GET', path: '/api/v1/disks', access: 'admin', summary: 'the disk bays: state, capacity, usage, SMART health, model and serial',
    handler: async () => ({ body: { disks: await tools().list() } }),
  });

  router.add({
    method: 'GET', path: '/api/v1/disks/:bay/format', access: 'admin', summary: "what formatting a bay would destroy, and whether it holds this store's recordings (force needed)",
    handler: async ({ params }) => ({ body: { plan: await refusals(() => tools().plan(params.bay)) } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/disks/:bay/format', access: 'admin',
    summary: "format a bay for recording: confirm is the bay's name typed by the user; force is needed when it holds this store's recordings (audited)",
    body: object({
      confirm: string({ max: 128 }).describe("the bay's name, typed by the user"),
      force: boolean().default(false).describe("erase this store's recordings on it"),
    }),
    handler: async ({ params, body, account, from }) => {
      const bay = params.bay!;
      const t = tools();
      // Unknown bays are a 404 before the confirmation is judged, so the answer names the real mistake.
      await refusals(() => t.plan(bay));
      if (body.confirm !== bay) throw new HttpError(422, 'confirm', `to format bay ${bay}, type its name "${bay}" in confirm`);
      let result;
      try {
        result = await t.format(bay, { force: body.force });
      } catch (e) {
        if (e instanceof DiskCommandError) throw refusal(e);
        // Not a refusal: the disk was detached and maybe half erased, so it is on the record like a format.
        const message = (e as Error).message;
        await d.audit.record('disk-formatted', account!.name, from, { bay, force: body.force, error: message });
        throw new HttpError(500, 'format-failed', `formatting bay ${bay} failed: ${message}`);
      }
      await d.audit.record('disk-formatted', account!.name, from, { bay, force: body.force, destroyed: result.destroyed });
      return { body: result };
    },
  });

  router.add({
    method: 'POST', path: '/api/v1/disks/:bay/check', access: 'admin', summary: "check a bay's store against its index (read-only)",
    handler: async ({ params }) => ({ body: await refusals(() => tools().check(params.bay)) }),
  });
}

/** The tools' refusals as HTTP answers; other failures pass (a 500 the router logs). */
async function refusals<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw e instanceof DiskCommandError ? refusal(e) : e;
  }
}

function refusal(e: DiskCommandError): HttpError {
  if (e.code === 'unknown-bay') return notFound(e.message);
  if (e.code === 'needs-force' && e.plan) {
    return new HttpError(409, 'needs-force', `bay ${e.plan.bay} holds recordings of this store: formatting destroys ${e.plan.destroys.join('; ')}. Tick force to erase them`);
  }
  if (e.code === 'needs-force' || e.code === 'busy' || e.code === 'no-disk') return new HttpError(409, e.code, e.message);
  return new HttpError(422, 'invalid', e.message);
}

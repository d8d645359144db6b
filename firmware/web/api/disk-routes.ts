import { array, boolean, int, nullable, object, oneOf, string, type Schema } from '../../core/schema.js';
import { DISK_STATES } from '../../core/bus.js';
import { DiskCommandError, type DiskListEntry, type DiskTools, type FormatPlan } from '../../storage/commands.js';
import type { CheckReport } from '../../storage/disk-check.js';
import type { AuditLog } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import type { Router } from '../http/router.js';

const count = int({ min: 0 });
const diskState = oneOf(DISK_STATES);
const bayKind = oneOf(['block', 'directory'] as const);

const diskSchema: Schema<DiskListEntry> = object({
  name: string().describe('the bay'),
  path: string().describe("the store's directory on it"),
  group: string(),
  state: diskState,
  detail: string().optional().describe('why, when the state is not ok'),
  blocks: count,
  freeBlocks: count,
  blockSize: count.describe('bytes'),
  usedBlocks: count.describe('blocks holding recordings'),
  lockedBlocks: count.describe('of those, the ones a lock protects'),
  usedBytes: count.describe('media bytes in the used blocks'),
  device: string().optional(),
  storeId: string().optional(),
  diskId: string().optional(),
  kind: bayKind,
  capacityBytes: nullable(count),
  fsFreeBytes: nullable(count),
  model: nullable(string()),
  serial: nullable(string()),
  node: nullable(string()).describe('the block device'),
  smart: nullable(
    object({ passed: nullable(boolean()), temperatureC: nullable(int()), powerOnHours: nullable(count), reallocatedSectors: nullable(count), pendingSectors: nullable(count) }),
  ).describe('null: not a block device, or SMART could not be read (smartDetail says why)'),
  smartDetail: string().optional(),
});

const planSchema: Schema<FormatPlan> = object({
  bay: string(),
  kind: bayKind,
  target: string().describe('the device or directory that would be erased'),
  destroys: array(string()).describe('what formatting destroys, a line each'),
  holdsRecordings: boolean().describe("the disk holds this store's recordings: force is needed"),
});

const formatResultSchema = object({
  bay: string(),
  target: string(),
  state: diskState.optional().describe('the disk after the format (absent: the bay is not in the ring)'),
  blocks: count,
  blockSize: count,
  destroyed: array(string()),
});

const checkReportSchema: Schema<CheckReport> = object({
  path: string(),
  ok: boolean(),
  header: object({
    version: count,
    storeId: string(),
    diskId: string(),
    blockSize: count,
    blockCount: count,
    indexBytes: count,
    reserveBytes: count,
    createdMs: count,
  }).optional().describe('absent when the store header cannot be read'),
  blocks: count,
  sealed: count,
  open: count,
  free: count,
  indexRecords: count,
  problems: array(string(), { max: 100 }).describe('one line per problem found'),
  moreProblems: count.describe('problems beyond those listed'),
});

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
    response: { json: object({ disks: array(diskSchema) }) },
    handler: async () => ({ body: { disks: await tools().list() } }),
  });

  router.add({
    method: 'GET', path: '/api/v1/disks/:bay/format', access: 'admin', summary: "what formatting a bay would destroy, and whether it holds this store's recordings (force needed)",
    response: { json: object({ plan: planSchema }) },
    handler: async ({ params }) => ({ body: { plan: await refusals(() => tools().plan(params.bay)) } }),
  });

  router.add({
    method: 'POST', path: '/api/v1/disks/:bay/format', access: 'admin',
    summary: "format a bay for recording: confirm is the bay's name typed by the user; force is needed when it holds this store's recordings (audited)",
    body: object({
      confirm: string({ max: 128 }).describe("the bay's name, typed by the user"),
      force: boolean().default(false).describe("erase this store's recordings on it"),
    }),
    response: { json: formatResultSchema, description: 'the bay formatted and back in the ring' },
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
    response: { json: checkReportSchema },
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

/**
 * `dvr upgrade status [--json]` and `dvr upgrade rollback`: the firmware
 * slots of the board profile's upgrade root, read and switched on disk (no
 * running firmware needed: a rollback is what one does when the new
 * version will not run).
 */
import type { BoardProfile } from '../board/profile.js';
import { controlRequest } from '../control/control-client.js';
import { UpgradeError } from '../upgrade/errors.js';
import { Upgrader, type UpgradeStatus } from '../upgrade/installer.js';
import type { Values } from './commands.js';
import { UserError } from './user-error.js';

const USAGE = 'usage: dvr upgrade status [--json] | dvr upgrade rollback';

/** The version the running firmware reports, or null when none answers. */
async function runningVersion(socket: string): Promise<string | null> {
  try {
    return ((await controlRequest(socket, { cmd: 'status' })) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

export function formatUpgradeStatus(s: UpgradeStatus, running: string | null): string {
  return [
    `running:  ${running ?? 'not running'}`,
    `current:  ${s.current ?? '-'}${s.current && running && s.current !== running ? ' (starts at the next restart)' : ''}`,
    `previous: ${s.previous ?? '-'}`,
    `slots:    ${s.slots.join(', ') || '-'}`,
    `trusted signing keys: ${s.trustedKeys.join(', ') || 'none (no upgrade is accepted)'}`,
  ].join('\n');
}

export async function upgradeCommand(sub: string | undefined, args: string[], values: Values, board: () => BoardProfile, socket: () => string, out = (s: string) => void process.stdout.write(s)): Promise<number> {
  if (args.length) throw new UserError(USAGE, 2);
  const b = board();
  if (!b.upgrade) throw new UserError(`board ${b.name} has no firmware slots (no upgrade section in its profile)`, 1);
  const running = await runningVersion(socket());
  const upgrader = new Upgrader({ root: b.upgrade.root, keys: b.upgrade.keys, stagingDir: b.paths.data, board: b.name, runningVersion: running ?? 'none' });
  switch (sub) {
    case 'status': {
      const s = await upgrader.status();
      out(values.json ? `${JSON.stringify({ ...s, running }, null, 2)}\n` : `${formatUpgradeStatus(s, running)}\n`);
      return 0;
    }
    case 'rollback': {
      try {
        const r = await upgrader.rollback();
        out(`current is now ${r.current} (previous: ${r.previous ?? '-'}); it runs from the next start: systemctl restart dvr\n`);
        return 0;
      } catch (e) {
        if (e instanceof UpgradeError) throw new UserError(e.message, 1);
        throw e;
      }
    }
    default:
      throw new UserError(USAGE, 2);
  }
}

import { execFile } from 'node:child_process';

export interface SmartHealth {
  /** null when the device gave no verdict (no SMART, unknown type). */
  passed: boolean | null;
  model: string | null;
  serial: string | null;
  firmware: string | null;
  capacityBytes: number | null;
  temperatureC: number | null;
  powerOnHours: number | null;
  /** ATA attribute 5 (reallocated sectors), the first sign of a dying disk. */
  reallocatedSectors: number | null;
  /** ATA attribute 197 (pending sectors). */
  pendingSectors: number | null;
  /** What smartctl said went wrong, one line each. */
  messages: string[];
}

export class SmartError extends Error {
  override name = 'SmartError';
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, 128) : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * Reads `smartctl --json` output (format version 1). Everything is optional:
 * USB bridges, virtual disks and old drives leave out whole sections, and a
 * missing field is null rather than a guess.
 */
export function parseSmartctlJson(text: string): SmartHealth {
  let root: Record<string, unknown>;
  try {
    root = obj(JSON.parse(text));
  } catch (e) {
    throw new SmartError(`smartctl did not print JSON: ${(e as Error).message}`);
  }
  const version = root.json_format_version;
  if (!Array.isArray(version) || version[0] !== 1) throw new SmartError(`unsupported smartctl JSON format ${JSON.stringify(version)?.slice(0, 40)}`);
  const smartctl = obj(root.smartctl);
  const messages = (Array.isArray(smartctl.messages) ? smartctl.messages : [])
    .map((m) => str(obj(m).string))
    .filter((m): m is string => m !== null);
  const status = obj(root.smart_status);
  const attrs = Array.isArray(obj(root.ata_smart_attributes).table) ? (obj(root.ata_smart_attributes).table as unknown[]) : [];
  const raw = (id: number) => num(obj(obj(attrs.map(obj).find((a) => a.id === id)).raw).value);
  return {
    passed: typeof status.passed === 'boolean' ? status.passed : null,
    model: str(root.model_name),
    serial: str(root.serial_number),
    firmware: str(root.firmware_version),
    capacityBytes: num(obj(root.user_capacity).bytes),
    temperatureC: num(obj(root.temperature).current),
    powerOnHours: num(obj(root.power_on_time).hours),
    reallocatedSectors: raw(5),
    pendingSectors: raw(197),
    messages,
  };
}

/**
 * Runs `smartctl --json -H -i -A <device>` (arguments only, never a shell).
 * smartctl's exit status is a bit mask that is non-zero for merely
 * informative findings, so the JSON, not the status, decides.
 */
export function readSmartHealth(device: string, timeoutMs = 20_000): Promise<SmartHealth> {
  if (!device.startsWith('/dev/')) return Promise.reject(new SmartError(`not a device path: ${device.slice(0, 80)}`));
  return new Promise((resolve, reject) => {
    execFile('smartctl', ['--json', '-H', '-i', '-A', device], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new SmartError('smartctl is not installed'));
      try {
        resolve(parseSmartctlJson(stdout));
      } catch (e) {
        reject(e);
      }
    });
  });
}

// Picks the generated layout table for the running process's ABI.
import type { AbiLayout } from './spec.js';
import { layout as x64 } from './layouts.x64.js';
import { layout as arm64 } from './layouts.arm64.js';
import { layout as arm, layoutTime32 as armTime32 } from './layouts.arm.js';

/** Every table, by ABI name ('x64', 'arm64', 'arm', 'arm-time32'). */
export const LAYOUTS: Readonly<Record<string, AbiLayout>> = {
  x64,
  arm64,
  arm,
  'arm-time32': armTime32,
};

/**
 * The layout for a Node `process.arch`. On 32-bit ARM this is the 64-bit
 * time_t variant (what the kernel has offered since 5.6, and y2038-safe);
 * V4l2Device falls back to `arm-time32` by itself when the kernel answers
 * ENOTTY to the 64-bit-time buffer ioctls.
 */
export function layoutFor(arch: string = process.arch, timeBits: 32 | 64 = 64): AbiLayout {
  if (arch === 'arm') return timeBits === 32 ? armTime32 : arm;
  const found = arch === 'x64' ? x64 : arch === 'arm64' ? arm64 : undefined;
  if (!found) throw new Error(`no V4L2 struct layouts for architecture ${arch} (have x64, arm64, arm)`);
  return found;
}

/** The 32-bit-time variant of a layout, if the ABI has one (only 32-bit ARM). */
export function time32Variant(layout: AbiLayout): AbiLayout | undefined {
  return layout.abi === 'arm' ? armTime32 : undefined;
}

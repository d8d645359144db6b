// Settings that name files on the box. A path is handed to open() as it is, so
// it must say plainly where it points: absolute, normalized, no "." or ".."
// segment that would walk out of the directory it appears to be in.
import { posix } from 'node:path';
import { nullable, refine, string } from '../core/schema.js';

/** Why `p` is not a plain absolute path, or null when it is one. */
export function filePathProblem(p: string): string | null {
  if (!p.startsWith('/')) return 'must be an absolute path';
  if (/[\x00-\x1f\x7f]/.test(p)) return 'must not contain control characters';
  const segments = p.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain "." or ".." segments';
  if (p === '/' || segments.includes('') || posix.normalize(p) !== p) return 'must be a normalized path to a file (no "//", no trailing "/")';
  return null;
}

/** A device node: a normalized path under /dev/. ":" for the stable udev names of USB grabbers (/dev/v4l/by-path/...-usb-0:1.1:1.0-video-index0). */
export const devicePath = refine(string({ min: 1, max: 160, pattern: /^\/dev\/[A-Za-z0-9_.:/-]+$/ }), (p, path, issues) => {
  const problem = filePathProblem(p);
  if (problem) issues.push(`${path || '(root)'}: ${JSON.stringify(p)} ${problem} under /dev/`);
});

/** PEM text is told from a path by its armour line, as mqtt/broker-check.ts reads it. */
export const isPem = (v: string): boolean => v.includes('-----BEGIN');

/**
 * PEM text, or the absolute path of a PEM file anywhere the firmware can
 * read (the page has no upload for it: an installer pastes the PEM, or puts
 * the file on the box and names it). null: not set.
 */
export const pemOrFilePath = refine(nullable(string({ max: 65536 })), (v, path, issues) => {
  if (v === null || isPem(v)) return;
  const problem = filePathProblem(v);
  if (problem) issues.push(`${path || '(root)'}: ${JSON.stringify(v.slice(0, 200))} is neither PEM text nor a usable file path: ${problem}`);
});

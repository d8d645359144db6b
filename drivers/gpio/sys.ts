// The system calls drivers/gpio makes, behind one object so host tests can
// put a stand-in kernel in their place (the host has no GPIO chips).
// Production code never changes it.
import { close, ioctlBuf, open, poll, read } from '../libc/index.js';

export const sys = { open, close, ioctlBuf, poll, read };

/** Replace some calls; returns a function that restores the originals. */
export function overrideSys(replacement: Partial<typeof sys>): () => void {
  const saved = { ...sys };
  Object.assign(sys, replacement);
  return () => Object.assign(sys, saved);
}

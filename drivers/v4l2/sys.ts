// The system calls drivers/v4l2 makes on a device, behind one object so that
// host tests can put a JavaScript stand-in for the kernel in their place
// (test/drivers/v4l2/fixtures/fake-kernel.ts). Production code never changes it.
import { ioctlBuf, mmap, munmap } from '../libc/index.js';

export const sys = { ioctlBuf, mmap, munmap };

/** Replace some calls; returns a function that restores the originals. */
export function overrideSys(replacement: Partial<typeof sys>): () => void {
  const saved = { ...sys };
  Object.assign(sys, replacement);
  return () => Object.assign(sys, saved);
}

// Linux ioctl request encoding (include/uapi/asm-generic/ioctl.h). x86, arm
// and arm64 all use the generic layout; mips, powerpc, sparc and alpha do not,
// and are not targets of this firmware.

const NRBITS = 8;
const TYPEBITS = 8;
const SIZEBITS = 14;
const NRSHIFT = 0;
const TYPESHIFT = NRSHIFT + NRBITS;
const SIZESHIFT = TYPESHIFT + TYPEBITS;
const DIRSHIFT = SIZESHIFT + SIZEBITS;

export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

/** A type byte given as in C headers ('V') or as a number (0x56). */
export type IocType = string | number;

function typeByte(type: IocType): number {
  const value = typeof type === 'string' ? type.charCodeAt(0) : type;
  if (!Number.isInteger(value) || value < 0 || value > 0xff || (typeof type === 'string' && type.length !== 1)) {
    throw new RangeError(`ioctl type must be one byte, got ${JSON.stringify(type)}`);
  }
  return value;
}

function field(label: string, value: number, bits: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`ioctl ${label} ${value} does not fit in ${bits} bits`);
  }
  return value;
}

/** _IOC(dir, type, nr, size) as an unsigned 32-bit number. */
export function IOC(dir: number, type: IocType, nr: number, size: number): number {
  // >>> 0 because dir=READ sets bit 31, which JS bitwise ops would make negative.
  return (
    ((field('dir', dir, 2) << DIRSHIFT) |
      (field('size', size, SIZEBITS) << SIZESHIFT) |
      (typeByte(type) << TYPESHIFT) |
      (field('nr', nr, NRBITS) << NRSHIFT)) >>>
    0
  );
}

/** _IO(type, nr): no argument data. */
export const IO = (type: IocType, nr: number): number => IOC(IOC_NONE, type, nr, 0);
/** _IOR(type, nr, size): the kernel writes `size` bytes to user space. */
export const IOR = (type: IocType, nr: number, size: number): number => IOC(IOC_READ, type, nr, size);
/** _IOW(type, nr, size): the kernel reads `size` bytes from user space. */
export const IOW = (type: IocType, nr: number, size: number): number => IOC(IOC_WRITE, type, nr, size);
/** _IOWR(type, nr, size): both directions. */
export const IOWR = (type: IocType, nr: number, size: number): number =>
  IOC(IOC_READ | IOC_WRITE, type, nr, size);

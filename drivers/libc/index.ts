export { koffi, libc, type KoffiModule, type LibcFunctions } from './load.js';
export { SysError, errnoName, type SysContext } from './errors.js';
export { IO, IOR, IOW, IOWR, IOC, IOC_NONE, IOC_READ, IOC_WRITE, type IocType } from './ioc.js';
export * from './constants.js';
export { open, close, read, write, ioctl, ioctlBuf, ioctlIntRef, type Bytes } from './io.js';
export { mmap, munmap, mapView, type Pointer } from './mman.js';
export { poll, type PollFd } from './poll.js';
export { socket, sendto, setsockoptInt, unixAddress, type UnixAddress } from './socket.js';

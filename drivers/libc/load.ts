// The single place that loads koffi and libc. Both are loaded on first use,
// never at import time, so modules that merely import a driver still load on
// hosts without the koffi native package or glibc (macOS dev boxes, CI linters).
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

export type KoffiModule = typeof Koffi;
type Fn = (...args: any[]) => any;

export interface LibcFunctions {
  open: Fn;
  close: Fn;
  read: Fn;
  write: Fn;
  ioctl: Fn;
  mmap: Fn;
  munmap: Fn;
  poll: Fn;
  socket: Fn;
  sendto: Fn;
  setsockopt: Fn;
  strerror: Fn;
}

let koffiModule: KoffiModule | undefined;
let functions: LibcFunctions | undefined;
let structsDefined = false;

/** The koffi module, loaded on first call. Sibling drivers use this for struct types. */
export function koffi(): KoffiModule {
  // createRequire keeps the load synchronous and lazy; a static import would
  // run koffi's native loader as soon as any driver is imported.
  koffiModule ??= createRequire(import.meta.url)('koffi') as KoffiModule;
  return koffiModule;
}

/** True once libc has been loaded (lets error formatting avoid forcing a load). */
export function libcLoaded(): boolean {
  return functions !== undefined;
}

/** The bound libc functions, loaded on first call. */
export function libc(): LibcFunctions {
  if (functions) return functions;
  const k = koffi();
  if (!structsDefined) {
    // Named so the prototype strings below (and sibling drivers) can refer to
    // them. Guarded because koffi rejects a second definition of a name, which
    // would hide the real error if a first load attempt failed further down.
    k.struct('pollfd', { fd: 'int', events: 'short', revents: 'short' });
    k.struct('sockaddr_un', { sun_family: 'uint16_t', sun_path: k.array('uint8_t', 108) });
    structsDefined = true;
  }
  const lib = k.load('libc.so.6');

  functions = {
    // The *64 variants take a 64-bit off_t and imply O_LARGEFILE on 32-bit ARM;
    // on 64-bit glibc they are aliases of the plain names.
    open: lib.func('int open64(const char *path, int flags, ...)'),
    close: lib.func('int close(int fd)'),
    read: lib.func('intptr_t read(int fd, void *buf, size_t count)'),
    write: lib.func('intptr_t write(int fd, const void *buf, size_t count)'),
    // Declared variadic like glibc does; callers pass the third argument as a
    // type/value pair ('intptr_t' for integers, 'void *' for buffers).
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
    mmap: lib.func('void *mmap64(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    poll: lib.func('int poll(_Inout_ pollfd *fds, unsigned long nfds, int timeout)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    sendto: lib.func(
      'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const sockaddr_un *addr, uint32_t addrlen)',
    ),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    strerror: lib.func('const char *strerror(int errnum)'),
  };
  return functions;
}

/** errno of the last native call; read it before doing anything else. */
export function lastErrno(): number {
  return koffi().errno();
}

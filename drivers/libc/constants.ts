// Linux values shared by x86_64, arm and arm64. Flags whose value differs on
// arm (O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE) are deliberately absent.

// fcntl.h
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_SYNC = 0o4010000;
export const O_CLOEXEC = 0o2000000;

// poll.h
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

// sys/mman.h
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;

// sys/socket.h
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SOCK_CLOEXEC = O_CLOEXEC;
// asm-generic/socket.h: the same on x86 and ARM (not on MIPS, SPARC, Alpha, PA-RISC).
export const SOL_SOCKET = 1;
export const SO_RCVLOWAT = 18;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;

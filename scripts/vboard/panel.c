/*
 * vboard-panel: the virtual board's front panel, a uinput keyboard named
 * "vboard front panel" (keys 1..255, EV_KEY + EV_SYN). The guest's /init
 * starts it right after evdev and uinput are loaded, so it is /dev/input/event0.
 *
 *   vboard-panel FIFO     create the device, fork to the background, then read
 *                         lines from FIFO: "CODE" presses and releases key CODE
 *                         (e.g. 28 = KEY_ENTER), "CODE VALUE" sends one event
 *                         (1 press, 0 release, 2 repeat) and a SYN_REPORT.
 *
 * Built statically by build.sh so the initramfs needs no libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/uinput.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int emit(int fd, int type, int code, int value) {
  struct input_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.code = code;
  ev.value = value;
  return write(fd, &ev, sizeof ev) == sizeof ev ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: vboard-panel FIFO\n");
    return 2;
  }
  int fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK);
  if (fd < 0) {
    perror("vboard-panel: /dev/uinput");
    return 1;
  }
  ioctl(fd, UI_SET_EVBIT, EV_KEY);
  ioctl(fd, UI_SET_EVBIT, EV_SYN);
  for (int k = 1; k < 256; k++) ioctl(fd, UI_SET_KEYBIT, k);
  struct uinput_setup setup;
  memset(&setup, 0, sizeof setup);
  setup.id.bustype = BUS_VIRTUAL;
  setup.id.vendor = 0x1d6b;
  setup.id.product = 0x0dd0;
  setup.id.version = 1;
  strcpy(setup.name, "vboard front panel");
  if (ioctl(fd, UI_DEV_SETUP, &setup) < 0 || ioctl(fd, UI_DEV_CREATE) < 0) {
    perror("vboard-panel: UI_DEV_CREATE");
    return 1;
  }
  /* The device exists now: let the caller go on. */
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid > 0) return 0;
  setsid();

  int in = open(argv[1], O_RDWR); /* RDWR: never sees EOF when writers close */
  if (in < 0) {
    perror("vboard-panel: fifo");
    return 1;
  }
  FILE *f = fdopen(in, "r");
  char line[128];
  while (fgets(line, sizeof line, f)) {
    int code, value;
    int n = sscanf(line, "%d %d", &code, &value);
    if (n < 1 || code < 1 || code > 255) continue;
    if (n == 2) {
      emit(fd, EV_KEY, code, value);
      emit(fd, EV_SYN, SYN_REPORT, 0);
    } else {
      emit(fd, EV_KEY, code, 1);
      emit(fd, EV_SYN, SYN_REPORT, 0);
      emit(fd, EV_KEY, code, 0);
      emit(fd, EV_SYN, SYN_REPORT, 0);
    }
  }
  return 0;
}

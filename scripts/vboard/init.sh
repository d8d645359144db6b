#!/bin/sh
# /init of the virtual board's initramfs (busybox sh). Loads the modules named
# on the kernel command line, sets up the virtual hardware, mounts the host
# root read-only (9p, under a tmpfs overlay so the guest can write anywhere)
# and the project read-write at its host path, chroots there, runs one command
# and powers off. Kernel command line (set by scripts/vboard/run.sh):
#   dvr.modules=a,b,c    modules to load, in order (options: modname.opt=... on
#                        the command line, which kmod's modprobe reads)
#   dvr.async=d,e        modules loaded meanwhile in the background (their
#                        device names do not depend on the order)
#   dvr.project=PATH     the project's path on the host (9p tag "project")
#   dvr.cmd=FILE         script to run, relative to the project (sh FILE)
#   dvr.out=DIR          where stdout, stderr and exit go, relative to the project
#   dvr.shell=1          a shell on the console after the command (debugging)
#   dvr.trace=1          log each module load with its time to the console
# busybox sh prefers its own applets: the host's tools are called by path
# inside the chroot, never from here.
export PATH=/sbin:/bin
say() { read -r up _ < /proc/uptime; echo "vboard[$up]: $*" > /dev/console; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
say "init started"

modules= async= project= cmd= out= shell= trace=
for word in $(cat /proc/cmdline); do
  case "$word" in
    dvr.modules=*) modules=${word#dvr.modules=} ;;
    dvr.project=*) project=${word#dvr.project=} ;;
    dvr.cmd=*) cmd=${word#dvr.cmd=} ;;
    dvr.out=*) out=${word#dvr.out=} ;;
    dvr.shell=*) shell=${word#dvr.shell=} ;;
    dvr.trace=*) trace=${word#dvr.trace=} ;;
    dvr.async=*) async=${word#dvr.async=} ;;
  esac
done

# --- virtual hardware -------------------------------------------------------
gpio_sim() {
  # One chip, one bank of 8 named lines: /dev/gpiochip0 (the only gpiochip).
  local c=/sys/kernel/config/gpio-sim/vboard i=0
  mkdir -p "$c/bank0" || return 1
  echo vboard > "$c/bank0/label"
  echo 8 > "$c/bank0/num_lines"
  for name in in1 in2 in3 in4 relay1 relay2 buzzer spare; do
    mkdir "$c/bank0/line$i"
    echo "$name" > "$c/bank0/line$i/name"
    i=$((i + 1))
  done
  echo 1 > "$c/live"
}
ir_nec() {
  # The NEC decoder on rc-loopback's receiver (the only rc device without CEC).
  for rc in /sys/class/rc/rc*; do
    grep -q 'DRV_NAME=rc-loopback' "$rc/uevent" 2>/dev/null && echo nec > "$rc/protocols"
  done
}

sd_in_order() {
  # sd_probe is asynchronous, so disks probed together race for sda/sdb.
  # With autoprobe off while sd_mod loads, each disk is then probed on its
  # own (drivers_probe is synchronous) in SCSI host order = AHCI port order.
  local d
  for d in $(ls /sys/bus/scsi/devices | grep -E '^[0-9]+:' | sort -t: -k1,1n); do
    echo "$d" > /sys/bus/scsi/drivers_probe
  done
  echo 1 > /sys/bus/scsi/drivers_autoprobe
}
load() {  # load one module, then what the virtual hardware needs right after it
  [ "$1" = sd_mod ] && [ -e /sys/bus/scsi/drivers_autoprobe ] && echo 0 > /sys/bus/scsi/drivers_autoprobe
  modprobe "$1" || say "modprobe $1 failed"
  [ "$trace" = 1 ] && say "loaded $1"
  case "$1" in
    configfs) mount -t configfs configfs /sys/kernel/config ;;
    uinput)
      mkfifo /dev/vboard-panel
      vboard-panel /dev/vboard-panel || say "front panel failed" ;;
    gpio-sim) gpio_sim || say "gpio-sim configuration failed" ;;
    ir-nec-decoder) ir_nec ;;
    sd_mod) sd_in_order ;;
  esac
}
# Modules whose device numbers do not depend on the order (disks, watchdog)
# load in the background while the ordered list loads.
async_pid=
if [ -n "$async" ]; then
  ( for m in $(echo "$async" | tr , ' '); do load "$m"; done ) &
  async_pid=$!
fi
for m in $(echo "$modules" | tr , ' '); do load "$m"; done
[ -z "$async_pid" ] || wait "$async_pid"
say "modules loaded"

# Network: QEMU user-mode networking (slirp) defaults, static.
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  ip addr add 10.0.2.15/24 dev eth0
  ip route add default via 10.0.2.2
fi
hostname vboard

# --- the host root, writable through an overlay ------------------------------
opts=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /mnt/lower /mnt/rw
if mount -t 9p -o "$opts,cache=loose,ro" hostroot /mnt/lower; then
  mount -t tmpfs -o mode=755 tmpfs /mnt/rw
  mkdir -p /mnt/rw/upper /mnt/rw/work
  mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot \
    || mount --bind /mnt/lower /newroot
  r=/newroot
  mount -t proc proc $r/proc
  mount --rbind /sys $r/sys
  mount --rbind /dev $r/dev
  mount -t tmpfs -o mode=755 tmpfs $r/run
  mount -t tmpfs -o mode=1777 tmpfs $r/tmp
  mkdir -p $r/var/lib/dvr && mount -t tmpfs -o mode=755 tmpfs $r/var/lib/dvr
  echo vboard > $r/etc/hostname 2>/dev/null
  if [ -n "$project" ]; then
    mkdir -p "$r$project"
    mount -t 9p -o "$opts" project "$r$project" || say "project share not mounted"
  fi
  say "host root mounted"
else
  say "no host root (9p share hostroot)"
  r=
fi

# --- the command ---------------------------------------------------------------
code=
if [ -n "$r" ] && [ -n "$cmd" ] && [ -n "$project" ]; then
  o=$r$project/${out:-var/vboard}
  mkdir -p "$o"
  say "running $cmd"
  chroot $r /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=linux LANG=C.UTF-8 DVR_VBOARD=1 DVR_PROJECT="$project" \
    /bin/sh -c 'cd "$DVR_PROJECT" && exec /bin/sh "$0"' "$cmd" \
    < /dev/null > "$o/stdout" 2> "$o/stderr"
  code=$?
  echo "$code" > "$o/exit"
  say "exit code $code"
fi
if [ "$shell" = 1 ]; then
  say "debug shell (exit to power off)"
  setsid cttyhack sh
fi
sync
poweroff -f

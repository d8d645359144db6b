#!/usr/bin/env bash
# Build the virtual board: a pinned Debian 6.1 kernel, the drivers Debian does
# not build (gpio-sim, vicodec + v4l2-mem2mem, vkms) compiled out of tree
# against that kernel's headers, and an initramfs with busybox, kmod, the
# module closure, the front-panel helper and scripts/vboard/init.sh as /init.
#
# Idempotent: every step caches under var/vboard/ and is skipped when its
# output exists (the initramfs is remade when init.sh, panel.c or this script
# change). Prints the kernel release it built for; writes var/vboard/current.env
# (KVER, KERNEL, INITRD) for run.sh.
#
#   scripts/vboard/build.sh          build what is missing
#   scripts/vboard/build.sh --clean  forget everything under var/vboard/ first
set -euo pipefail

# The pinned kernel: ABI 6.1.0-$ABI, Debian package version $PKGVER. Debian
# drops old ABIs from the archive after security updates; if this one is gone
# (and not cached), the newest 6.1 ABI that apt offers is used instead, with a
# warning: update the pin then.
ABI=56
PKGVER=6.1.192-2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$here/../.." && pwd)
cache=$project/var/vboard
log() { echo "vboard: $*" >&2; }
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "${1:-}" = --clean ]; then rm -rf "$cache"; fi
mkdir -p "$cache/debs"
# One build at a time (tests and `make vboard` may start together).
exec 9> "$cache/.build.lock"
flock 9

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "missing tools: ${missing[*]} (run scripts/install-deps.sh test)"
    exit 1
  fi
}
need apt-get dpkg-deb make gcc-12 depmod modprobe cpio zstd xz busybox strip flock
if ldd /bin/busybox >/dev/null 2>&1; then
  log "/bin/busybox is dynamically linked: install busybox-static"
  exit 1
fi

# --- 1. the pinned packages -------------------------------------------------
pkgs() {
  echo "linux-image-6.1.0-$1-amd64 linux-headers-6.1.0-$1-amd64 linux-headers-6.1.0-$1-common linux-kbuild-6.1 linux-source-6.1"
}
have_debs() {  # $1 ABI, $2 version: all five .deb files cached?
  local p
  for p in $(pkgs "$1"); do
    compgen -G "$cache/debs/${p}_${2}_*.deb" >/dev/null || return 1
  done
}
download() {  # $1 ABI, $2 version
  local p args=()
  for p in $(pkgs "$1"); do args+=("$p=$2"); done
  (cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "${args[@]}" >&2)
}
# A fallback chosen by an earlier build, while its packages are cached.
if ! have_debs "$ABI" "$PKGVER" && [ -s "$cache/fallback.env" ]; then
  fb_abi=$(sed -n 's/^ABI=//p' "$cache/fallback.env")
  fb_ver=$(sed -n 's/^PKGVER=//p' "$cache/fallback.env")
  if have_debs "$fb_abi" "$fb_ver"; then
    log "WARNING: using the fallback kernel 6.1.0-$fb_abi ($fb_ver), not the pinned 6.1.0-$ABI ($PKGVER)"
    ABI=$fb_abi PKGVER=$fb_ver
  fi
fi
if ! have_debs "$ABI" "$PKGVER"; then
  log "downloading linux 6.1.0-$ABI ($PKGVER)"
  if ! download "$ABI" "$PKGVER" 2>/dev/null; then
    apt-get update -qq >&2 || true
    if ! download "$ABI" "$PKGVER"; then
      # The newest ABI is the one linux-image-amd64 (the 6.1 series here) depends on.
      dep=$(apt-cache depends linux-image-amd64 | sed -nE 's/.*Depends: linux-image-6\.1\.0-([0-9]+)-amd64$/\1/p' | head -1)
      ver=$(apt-cache policy "linux-image-6.1.0-$dep-amd64" | sed -nE 's/^ *Candidate: (.*)$/\1/p')
      if [ -z "$dep" ] || [ -z "$ver" ]; then log "no Debian 6.1 kernel offered by apt"; exit 1; fi
      log "WARNING: pinned kernel 6.1.0-$ABI ($PKGVER) is no longer in the archive;" \
          "using the newest offered, 6.1.0-$dep ($ver). Update ABI/PKGVER in $0."
      ABI=$dep PKGVER=$ver
      have_debs "$ABI" "$PKGVER" || download "$ABI" "$PKGVER"
      printf 'ABI=%s\nPKGVER=%s\n' "$ABI" "$PKGVER" > "$cache/fallback.env"
    fi
  fi
fi
KVER=6.1.0-$ABI-amd64
deb() { ls "$cache/debs/${1}_${PKGVER}_"*.deb; }

k=$cache/$KVER
root=$k/root
hdr=$root/usr/src/linux-headers-$KVER
mkdir -p "$k"

# --- 2. unpack image, headers, kbuild (not installed on the host) -----------
if [ ! -e "$k/.unpacked" ]; then
  log "unpacking $KVER"
  rm -rf "$root"; mkdir -p "$root"
  for p in "linux-image-$KVER" "linux-headers-$KVER" "linux-headers-6.1.0-$ABI-common" linux-kbuild-6.1; do
    dpkg-deb -x "$(deb "$p")" "$root"
  done
  # The arch headers' Makefile includes the common headers by absolute path.
  sed -i "s|^include /usr/src/|include $root/usr/src/|" "$hdr/Makefile"
  touch "$k/.unpacked"
fi

# --- 3. the few sources the out-of-tree modules need ------------------------
src=$k/src
files=(
  drivers/gpio/gpio-sim.c drivers/gpio/gpiolib.h kernel/irq/irq_sim.c
  drivers/media/test-drivers/vicodec drivers/media/v4l2-core/v4l2-mem2mem.c
  drivers/gpu/drm/vkms
)
if [ ! -e "$k/.sources" ]; then
  log "extracting driver sources from linux-source-6.1 $PKGVER"
  rm -rf "$src"; mkdir -p "$src"
  dpkg-deb --fsys-tarfile "$(deb linux-source-6.1)" \
    | tar -xO ./usr/src/linux-source-6.1.tar.xz \
    | tar -xJ -C "$src" --strip-components=1 "${files[@]/#/linux-source-6.1/}"
  touch "$k/.sources"
fi

# --- 4. out-of-tree modules ---------------------------------------------------
# Debian's 6.1 builds none of these. v4l2-mem2mem (CONFIG_V4L2_MEM2MEM_DEV) is
# vicodec's framework; irq_sim (CONFIG_IRQ_SIM) is linked into gpio-sim, with
# its one use of the unexported irq_to_desc() replaced by generic_handle_irq().
mod=$k/mod
extra=$root/lib/modules/$KVER/extra
build_module() {  # $1 name, $2 Kbuild text; the sources are already in $mod/$1
  local dir=$mod/$1 extra_symbols=
  printf '%s\n' "$2" > "$dir/Kbuild"
  [ "$1" = v4l2-mem2mem ] || extra_symbols=$mod/v4l2-mem2mem/Module.symvers
  make -s -C "$hdr" M="$dir" KBUILD_EXTRA_SYMBOLS="$extra_symbols" modules 2>&1 \
    | { grep -v 'Skipping BTF' || true; } >&2
}
if [ ! -e "$k/.modules" ]; then
  log "building gpio-sim, v4l2-mem2mem, vicodec, vkms against $KVER"
  rm -rf "$mod"; mkdir -p "$mod"/{gpio-sim,v4l2-mem2mem,vicodec,vkms}
  cp "$src/drivers/gpio/gpio-sim.c" "$mod/gpio-sim/gpio-sim-core.c"
  cp "$src/drivers/gpio/gpiolib.h" "$mod/gpio-sim/"
  sed 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' \
    "$src/kernel/irq/irq_sim.c" > "$mod/gpio-sim/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum);' "$mod/gpio-sim/irq_sim.c" || { log "irq_sim.c patch did not apply"; exit 1; }
  cp "$src/drivers/media/v4l2-core/v4l2-mem2mem.c" "$mod/v4l2-mem2mem/"
  cp "$src"/drivers/media/test-drivers/vicodec/*.[ch] "$mod/vicodec/"
  cp "$src"/drivers/gpu/drm/vkms/*.[ch] "$mod/vkms/"
  build_module v4l2-mem2mem 'obj-m := v4l2-mem2mem.o'
  build_module gpio-sim $'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o'
  build_module vicodec $'obj-m := vicodec.o\nvicodec-y := vicodec-core.o codec-fwht.o codec-v4l2-fwht.o'
  build_module vkms "obj-m := vkms.o
vkms-y := $(cd "$mod/vkms" && ls vkms_*.c | sed 's/\.c$/.o/' | tr '\n' ' ')"
  mkdir -p "$extra"
  cp "$mod"/*/*.ko "$extra/"
  depmod -b "$root" "$KVER"
  touch "$k/.modules"
fi

# --- 5. PVH vmlinux (uncompressed ELF: QEMU boots it without the decompressor) -
if [ ! -s "$k/vmlinux" ]; then
  log "extracting vmlinux"
  vmlinuz=$root/boot/vmlinuz-$KVER
  off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1 | sed -n 1p)
  tail -c +$((${off:-0} + 1)) "$vmlinuz" | xz -dc > "$k/vmlinux.tmp" 2>/dev/null || true
  if [ "$(head -c 4 "$k/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    mv "$k/vmlinux.tmp" "$k/vmlinux"
  else
    log "could not extract vmlinux; run.sh boots the bzImage"
    rm -f "$k/vmlinux.tmp"
  fi
fi

# --- 6. initramfs --------------------------------------------------------------
# The modules the guest may load (with everything they depend on).
MODULES=(
  vivid vicodec gpio-sim rc-loopback uinput evdev ahci sd_mod virtio_pci virtio_net
  9p 9pnet_virtio configfs loop ext4 i6300esb vkms ir-nec-decoder overlay
)
initrd=$k/initramfs.cpio.zst
inputs=("$here/init.sh" "$here/panel.c" "$0")
stale=0
[ -s "$initrd" ] || stale=1
for f in "${inputs[@]}"; do [ "$f" -nt "$initrd" ] && stale=1; done
if [ $stale = 1 ]; then
  log "making the initramfs"
  stage=$k/initramfs
  rm -rf "$stage"
  mkdir -p "$stage"/{bin,sbin,lib,lib64,etc,proc,sys,dev,run,tmp,mnt,newroot}
  cp /bin/busybox "$stage/bin/busybox"
  for applet in $(busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$stage/bin/$applet"
  done
  # kmod (real modprobe: reads module options from the kernel command line).
  cp /bin/kmod "$stage/sbin/kmod"
  for tool in modprobe insmod rmmod lsmod modinfo depmod; do ln -sf kmod "$stage/sbin/$tool"; done
  ldd /bin/kmod | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$stage$(dirname "$lib")"; cp -L "$lib" "$stage$lib"
  done
  # Module closure.
  mdir=lib/modules/$KVER
  mkdir -p "$stage/$mdir"
  cp "$root/$mdir"/modules.{order,builtin,builtin.modinfo} "$stage/$mdir/"
  for m in "${MODULES[@]}"; do
    modprobe -d "$root" -S "$KVER" --show-depends "$m"
  done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
    rel=${ko#"$root"/}
    mkdir -p "$stage/$(dirname "$rel")"; cp "$ko" "$stage/$rel"
  done
  depmod -b "$stage" "$KVER"
  # Front-panel helper (uinput), static so it needs nothing from the host.
  gcc -static -Os -Wall -o "$stage/sbin/vboard-panel" "$here/panel.c"
  strip "$stage/sbin/vboard-panel"
  cp "$here/init.sh" "$stage/init"; chmod +x "$stage/init"
  (cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) \
    | zstd -q -10 -T0 > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  log "initramfs: $(du -h "$initrd" | cut -f1), $(find "$stage" -name '*.ko' | wc -l) modules"
fi

# The host's TSC frequency for the guest's tsc_early_khz= (see tsc-khz.c).
if [ ! -x "$cache/tsc-khz" ] || [ "$here/tsc-khz.c" -nt "$cache/tsc-khz" ]; then
  gcc -O2 -Wall -o "$cache/tsc-khz" "$here/tsc-khz.c"
fi

kernel=$k/vmlinux
[ -s "$kernel" ] || kernel=$root/boot/vmlinuz-$KVER
cat > "$cache/current.env.tmp" <<ENV
KVER=$KVER
PKGVER=$PKGVER
KERNEL=${kernel#"$project"/}
INITRD=${initrd#"$project"/}
ENV
mv "$cache/current.env.tmp" "$cache/current.env"
log "ready: $KVER ($PKGVER) in $(elapsed) s"

#!/usr/bin/env bash
# Install what the firmware needs on a Debian host: system packages, then npm
# modules. Idempotent and quick when everything is already there.
#
#   scripts/install-deps.sh run    # enough to `make run` on the sim board
#   scripts/install-deps.sh test   # run + what the test suite uses
set -euo pipefail

usage() {
  echo "usage: $0 run|test" >&2
  exit 2
}

[ $# -eq 1 ] || usage
list=$1

# gstreamer1.0-plugins-bad carries x265enc (--codec h265) and voaacenc (--audio)
# for the RTSP test camera; x264enc is in -ugly. libx264-dev and
# libturbojpeg0-dev: drivers/encoder loads libx264.so.164 and libturbojpeg.so
# through koffi, and its layout generator reads x264.h; libyuv0 is the SIMD
# 2:1 scaler that makes the analog channels' sub streams.
run_pkgs=(
  mosquitto socat ffmpeg
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-x gstreamer1.0-rtsp
  gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 python3-gi
  libx264-dev libturbojpeg0-dev libyuv0
)
# Chromium: the web page's tests drive Debian's build through playwright-core
# (playwright cannot download its own browser here). The ARM cross compilers
# (compile only) check the committed V4L2 and x264 struct layouts of arm64
# and 32-bit ARM boards against the headers.
# The virtual board (scripts/vboard/): QEMU, the initramfs tools, what builds
# the out-of-tree kernel modules (objtool needs libelf1) and the front-panel
# helper, and the V4L2 and GPIO tools its tests run inside the guest.
# gnutls, nettle, libcap and libseccomp: what the unpacked chronyd below links.
test_pkgs=(
  e2fsprogs util-linux libgnutls30 libnettle8 libcap2 libseccomp2
  qemu-system-x86 busybox-static kmod cpio zstd xz-utils build-essential libelf1
  v4l-utils gpiod smartmontools
  chromium
  gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross
  linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross
)

case "$list" in
  run) pkgs=("${run_pkgs[@]}") ;;
  test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) usage ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# --- Debian packages --------------------------------------------------------
missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "apt: all ${#pkgs[@]} packages for '$list' present"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "apt: missing packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  echo "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- chronyd, unpacked ----------------------------------------------------------
# The NTP client's tests run a chronyd of their own (-x, a loopback port, a
# temporary config). Debian's chrony package conflicts with systemd-timesyncd
# (both provide time-daemon): installing it would replace the host's time
# service. Its binary is unpacked under var/tools/ instead; nothing is started.
chronyd=var/tools/chrony/usr/sbin/chronyd
if [ "$list" = test ] && [ ! -x "$chronyd" ]; then
  echo "chrony: unpacking Debian's chronyd into var/tools/chrony (not installed as a service)"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -qq chrony 2>/dev/null); then
    apt-get update -qq
    (cd "$tmp" && apt-get download -qq chrony)
  fi
  mkdir -p var/tools/chrony
  dpkg-deb -x "$tmp"/chrony_*.deb var/tools/chrony
  rm -rf "$tmp"
fi

# --- npm ----------------------------------------------------------------------
# -nt is also true when node_modules/.package-lock.json does not exist.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "npm: node_modules missing or older than package-lock.json, running npm ci"
  # npm 11 warns about packages with install scripts; those are denied through
  # allowScripts in package.json (koffi and serialport ship prebuilt binaries).
  npm ci --no-audit --no-fund
else
  echo "npm: node_modules up to date"
fi

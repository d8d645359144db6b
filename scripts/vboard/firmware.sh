#!/bin/sh
# Runs inside the guest for `make vboard`: the firmware in the foreground on
# the vboard profile (data in /var/lib/dvr, a tmpfs, and /run/dvr).
echo "vboard: firmware starting ($(node --version), $(uname -r))" >&2
exec node dist/firmware/cli/dvr.js start --board vboard --var / "$@"

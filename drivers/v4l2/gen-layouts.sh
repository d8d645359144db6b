#!/usr/bin/env bash
# Regenerate the V4L2 layout tables (see gen-layouts.ts). Pass --check to only compare.
# Needs: gcc, gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf, linux-libc-dev.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec node --import @tapjs/typescript/import drivers/v4l2/gen-layouts.ts "$@"

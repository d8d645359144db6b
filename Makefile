# The two commands that must always work on a fresh Debian/Ubuntu machine:
#   make run    the firmware on the sim board (installs what is missing first)
#   make test   every test (installs what is missing first); CI runs exactly this
SHELL := /bin/bash
.DEFAULT_GOAL := run
.PHONY: run test build page typecheck bench deps deps-test clean vboard

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

build: deps
	npx tsc -p tsconfig.json
	@chmod +x dist/firmware/cli/dvr.js
	@$(MAKE) --no-print-directory page

# The web page: its TypeScript built for the browser (DOM, no Node), beside
# the firmware's web module in dist/, with its HTML and CSS.
page:
	npx tsc -p tsconfig.page.json
	@cp firmware/web/page/index.html firmware/web/page/app.css dist/firmware/web/page/

typecheck: deps-test
	npx tsc -p tsconfig.test.json --noEmit
	npx tsc -p tsconfig.page.json --noEmit

run: build
	node dist/scripts/sim/run.js

# Type errors fail the build before a single test runs; tap then runs every test
# with coverage thresholds from package.json, and the last line is the summary.
test: deps-test typecheck
	npx tsc -p tsconfig.json
	@$(MAKE) --no-print-directory page
	@scripts/run-tests.sh

# The firmware on the virtual board (scripts/vboard/): a QEMU guest with Linux's
# virtual drivers as the hardware; builds it the first time (minutes, cached in
# var/vboard/), prints the forwarded web URL, runs until Ctrl-C. The SATA disk
# images persist in var/vboard/disks/. VBOARD_HTTP_PORT=N picks the host port.
vboard: build deps-test
	@scripts/vboard/build.sh
	@scripts/vboard/run.sh --follow --timeout 0 --disks var/vboard/disks scripts/vboard/firmware.sh

# Benchmarks are never timed tests: each script under scripts/bench/ prints its figures.
bench: build deps-test
	node dist/scripts/bench/run-all.js

clean:
	rm -rf dist .tap coverage

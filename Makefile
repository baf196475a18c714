# cowfs: convenience wrapper around Meson.  `make demo` and `make check`
# install what a fresh Debian machine lacks, build, and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEPS       := meson ninja-build pkg-config gcc libfuse3-dev fuse3 attr \
              kmod psmisc util-linux clang-format clang libclang-rt-14-dev

.PHONY: all deps build check check-unit check-fs check-asan check-tsan \
        check-fuzz demo format format-check clean soak

all: build

deps:
	@missing=""; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
			grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			$$missing >/dev/null; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined \
		-Db_lundef=false

check-unit: build
	meson test -C $(BUILD) --print-errorlogs

check-fs: build
	COWFS_BUILD=$(BUILD) tests/run-tests.sh
	COWFS_BUILD=$(BUILD) tests/run-tests.sh --user core chunked

check-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --print-errorlogs
	COWFS_BUILD=$(ASAN_BUILD) tests/run-tests.sh

$(TSAN_BUILD)/build.ninja:
	meson setup $(TSAN_BUILD) -Db_sanitize=thread -Db_lundef=false

check-tsan: deps $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)
	meson test -C $(TSAN_BUILD) --print-errorlogs
	TSAN_OPTIONS=halt_on_error=0 COWFS_BUILD=$(TSAN_BUILD) tests/run-tests.sh

# libFuzzer targets for every parser of on-disk or socket input, 20 s each
check-fuzz: build
	FUZZ_SECONDS=$${FUZZ_SECONDS:-20} tests/fuzz/run.sh

check: format-check check-unit check-fs check-asan check-tsan check-fuzz

demo: build
	demo/run-demo.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check: deps
	@out=$$(for f in $$(git ls-files '*.c' '*.h'); do \
		clang-format --dry-run -Werror $$f 2>&1 >/dev/null || echo $$f; \
	done); if [ -n "$$out" ]; then \
		echo "not formatted (run make format):"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-fuzz

# Long randomized runs of the differential exerciser (not part of check):
# random seeds for SOAK_TIME seconds (default 3600), SOAK_OPS operations
# per group and run (default 20000); see tests/exerciser/soak.sh.
soak: build
	tests/exerciser/soak.sh $(BUILD)

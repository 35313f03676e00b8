# Forkcast — the two commands a newcomer runs are `make demo` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
FORKCAST = .build/debug/forkcast

.PHONY: setup build demo test clean bench

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

# Installs what is missing, builds, records a bundled example and shows the result.
demo: build
	@scripts/demo.sh

# The whole test suite (installs what the tests need first).
test:
	@scripts/setup.sh --test
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build --disable-swift-testing $(BUILD_FLAGS)

# Overhead benchmark (minutes; not part of the tests).
bench: build
	benchmarks/overhead/run.sh

clean:
	rm -rf .build

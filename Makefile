# The commands of the README. CMake builds the C, npm the web app; this file only sequences.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
PORT       ?= 8080
DATA       ?= data

.PHONY: all run test bench deps build build-asan frontend format clean

all: build frontend

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSDSIM_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# The web app: node_modules from package-lock.json (npm ci, only when the lock file changed),
# then frontend/dist, rebuilt only when a source of it is newer than its stamp.
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f -not -path 'frontend/src/gen/*' 2>/dev/null) \
                    frontend/index.html frontend/vite.config.ts frontend/tsconfig.json \
                    frontend/package.json proto/sdsim.proto

frontend/node_modules/.package-lock.json: frontend/package-lock.json frontend/package.json | deps
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend/dist/.stamp: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build
	@touch $@

frontend: deps frontend/dist/.stamp

# The server on http://127.0.0.1:$(PORT)/ with the web app, the store in SQLite under $(DATA)/.
run: build frontend
	@echo "sdsim: open http://127.0.0.1:$(PORT)/ (Ctrl-C stops the server; data in $(DATA)/)"
	SDSIM_ROOT=$(CURDIR) $(BUILD)/sdsim serve --port $(PORT) --data-dir $(DATA) --static frontend/dist

# Every test: the release build (C, CLI, server, store, the web app's Vitest tests and the
# browser tests), then the unit tests again under ASan + UBSan.
test: build build-asan frontend
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build frontend
	@tests/bench/run.sh $(BUILD)

format:
	clang-format -i --style=file engine/*.[ch] host/*.[ch] tests/*/*.c tests/*.h

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) frontend/dist

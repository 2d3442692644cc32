# The three commands of the README. CMake does the building; this file only sequences it.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all run test bench deps build build-asan format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSDSIM_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Until the server exists, `make run` runs the e-commerce template and prints its report.
run: build
	$(BUILD)/sdsim run templates/ecommerce.lua

# Every test: the release build, then the unit tests again under ASan + UBSan.
test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	@tests/bench/run.sh $(BUILD)

format:
	clang-format -i --style=file engine/*.[ch] host/*.[ch] tests/*/*.c tests/*.h

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

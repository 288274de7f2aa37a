# The two commands of the README: `make run` and `make test`. `make build` just builds.
.PHONY: all deps build run test bench format tidy clean

JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:8080
DATA ?= ./data

all: build

deps:
	@scripts/install-deps

build/CMakeCache.txt:
	cmake --preset default

build: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS)

# run builds only the binary, so the first start does not wait for the test suite to compile.
run: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS) --target neosl
	./build/neosl serve --listen $(LISTEN) --data $(DATA)

test: build
	ctest --preset default

bench: build
	@scripts/install-deps --bench
	bench/gateway.sh

format:
	git ls-files '*.h' '*.cpp' | xargs clang-format -i

tidy: build/CMakeCache.txt
	git ls-files 'src/*.cpp' 'apps/*.cpp' | xargs clang-tidy -p build --quiet

clean:
	rm -rf build build-debug build-asan

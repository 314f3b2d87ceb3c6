# Chartkeeper: `make run` builds and serves on http://127.0.0.1:8080/fhir; `make test` runs every test.
# Both install what is missing first (Debian packages, pinned npm packages).
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
TEST_DIR := build/debug

.PHONY: deps release debug run test test-full bench fuzz clean

deps:
	tools/install_deps.sh

release: deps
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCK_BUILD_TESTS=OFF -DCK_BUILD_BENCH=ON
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target chartkeeper

debug: deps
	cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON
	cmake --build $(TEST_DIR) -j $(JOBS)

run: release
	$(RELEASE_DIR)/src/cli/chartkeeper serve --listen 127.0.0.1:8080 --data ./var

test: debug
	cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS)

# Also the long runs CI samples: every Synthea resource through the server (about 8 minutes more).
test-full: debug
	cd $(TEST_DIR) && CK_ROUND_TRIP=all ctest --output-on-failure -j $(JOBS)

bench: release
	cmake --build $(RELEASE_DIR) -j $(JOBS)
	bench/run.sh

fuzz:
	tools/install_deps.sh --fuzz
	fuzz/run.sh

clean:
	rm -rf build

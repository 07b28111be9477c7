# ensbulk — make targets. Only Go is needed; everything else comes from the
# Go module proxy. The HTML page's browser test also needs Chromium: `make
# browser` installs it (Debian/Ubuntu, as root) and runs that test; without
# Chromium the test is skipped (CI sets ENSBULK_REQUIRE_BROWSER=1: it fails).
GO      ?= go
PKGS    := ./...
BIN     := bin/ensbulk
FUZZTIME ?= 3s
# Which build: --version prints "VERSION (commit COMMIT)". Outside a git
# clone both are empty and the build info says what it can.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build install test vet fmtcheck cross fuzz demo bench soak lint clean browser

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ensbulk

# go install puts the binary in GOBIN, else the first GOPATH entry's bin
# (~/go/bin by default).
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/ensbulk
	@dir=$$($(GO) env GOBIN); [ -n "$$dir" ] || dir=$$($(GO) env GOPATH | cut -d: -f1)/bin; \
	echo "installed $$dir/ensbulk"; \
	case ":$$PATH:" in *":$$dir:"*) ;; *) echo "$$dir is not on PATH: add it, e.g. export PATH=\"\$$PATH:$$dir\"";; esac

# The race detector needs cgo and a C compiler (gcc or clang). Without
# them the suite still runs, without -race, and says so.
RACE := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v $(firstword $(shell $(GO) env CC)) >/dev/null 2>&1 && echo -race)

# The README's test command: format, vet (for every platform operators run
# it on), a build for each of them, the suite (with -race where it can), a
# short fuzz of both readers. Under 3 minutes on a 2-core machine; the long
# runs are make soak's. Most tests wait (on a server, a process, a pace)
# rather than compute: -parallel lets more of them wait at once than the
# default of one per core.
test: fmtcheck vet cross
	@[ -n "$(RACE)" ] || echo "warning: no C compiler for cgo (go env CC) or CGO_ENABLED=0: the tests run without -race; install gcc or clang for the race detector"
	$(GO) test $(RACE) -count=1 -parallel 8 -timeout 10m $(PKGS)
	$(MAKE) fuzz

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Vet for each platform of CROSS: tests too hold code that only builds on
# some of them (named pipes, SIGSTOP).
vet:
	@for os in $(sort $(foreach p,$(CROSS),$(firstword $(subst /, ,$(p))))); do \
		echo "vet $$os"; \
		GOOS=$$os $(GO) vet $(PKGS) || exit 1; \
	done

# The platforms operators run ensbulk on; the lock is the part that differs.
CROSS := linux/amd64 darwin/arm64 windows/amd64

cross:
	@for p in $(CROSS); do \
		echo "build $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/ensbulk || exit 1; \
	done

fuzz:
	@for f in $$($(GO) test -list '^Fuzz' ./reader | grep '^Fuzz'); do \
		echo "fuzz $$f ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./reader || exit 1; \
	done

demo:
	$(GO) run ./cmd/ensbulk demo

bench:
	$(GO) run ./cmd/ensbulk-bench

# The long runs make test leaves out; CI runs make soak after make test:
# 10,000 rows under every fault, and the benchmark's -quick path end to end
# (so the bench code cannot rot).
soak:
	$(GO) test $(RACE) -count=1 -timeout 30m -run 'Soak' ./cmd/ensbulk -soak
	$(GO) test $(RACE) -count=1 -timeout 15m -run '^TestQuick$$' ./cmd/ensbulk-bench -bench-e2e
	$(GO) test -count=1 -timeout 10m -run 'Soak' ./report/htmlpage -soak -v

# The HTML page in a real browser: installs Chromium when missing, then
# runs the browser test, required to run (not skipped).
browser:
	command -v chromium || (apt-get update && apt-get install -y chromium)
	ENSBULK_REQUIRE_BROWSER=1 $(GO) test $(RACE) -count=1 -run 'Browser' -v ./report/htmlpage

# staticcheck comes from the Go module proxy at a pinned version.
lint: fmtcheck vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

clean:
	rm -rf bin

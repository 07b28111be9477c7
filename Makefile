# ensbulk — make targets. Only Go is needed; everything else comes from the
# Go module proxy.
GO      ?= go
PKGS    := ./...
BIN     := bin/ensbulk
FUZZTIME ?= 5s

.PHONY: all build test vet fmtcheck cross fuzz demo bench soak lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/ensbulk

# The README's test command: format, vet, a build for every platform
# operators run it on, the race-enabled suite, a short fuzz of both readers.
test: fmtcheck vet cross
	$(GO) test -race -count=1 -timeout 8m $(PKGS)
	$(MAKE) fuzz

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

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

soak:
	$(GO) test -race -count=1 -timeout 30m -run 'Soak' ./cmd/ensbulk -soak

# staticcheck comes from the Go module proxy at a pinned version.
lint: fmtcheck vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

clean:
	rm -rf bin

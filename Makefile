# ensbulk — make targets. Only Go is needed; everything else comes from the
# Go module proxy.
GO      ?= go
PKGS    := ./...
BIN     := bin/ensbulk
FUZZTIME ?= 5s

.PHONY: all build test vet fmtcheck fuzz demo bench soak lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/ensbulk

# The README's test command: format, vet, the race-enabled suite, a short
# fuzz of both readers.
test: fmtcheck vet
	$(GO) test -race -count=1 -timeout 8m $(PKGS)
	$(MAKE) fuzz

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

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

# ofactor: see README.md. Every target works from a fresh clone on Debian; `make test` installs
# Open vSwitch (for the real-switch tests) when it is missing.

GO        ?= go
FUZZTIME  ?= 5m
TESTFLAGS ?=

.PHONY: all build test vet lint demo bench fuzz soak install-ovs clean

all: build

build:
	$(GO) build -o bin/ofactor ./cmd/ofactor

install-ovs:
	scripts/install-ovs.sh

test: install-ovs
	$(GO) vet ./...
	$(GO) test -race -timeout 12m $(TESTFLAGS) ./...

vet:
	$(GO) vet ./...

lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: build
	scripts/demo.sh

# Benchmarks: the Go benchmarks of every package, then the end-to-end benchmark against a
# private switch once cmd/ofbench exists.
bench: install-ovs
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if [ -d cmd/ofbench ]; then $(GO) run ./cmd/ofbench; fi

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

soak: install-ovs
	$(GO) test -tags soak -timeout 60m ./tests/...

clean:
	rm -rf bin

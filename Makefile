# ofactor: see README.md. Every target works from a fresh clone on Debian; `make test` installs
# Open vSwitch (for the real-switch tests) when it is missing.

GO        ?= go
FUZZTIME  ?= 5m
TESTFLAGS ?=

.PHONY: all build test vet lint demo bench bench-fleet fuzz soak install-ovs install-etcd proto clean

all: build

build:
	$(GO) build -o bin/ofactor ./cmd/ofactor

install-ovs:
	scripts/install-ovs.sh

# etcd (Debian's etcd-server) for the fleet tests, which start their own on loopback ports.
install-etcd:
	scripts/install-etcd.sh

test: install-ovs install-etcd
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

# Benchmarks: cmd/ofbench starts its own sandbox switches and prints the table of
# docs/performance.md (cold install, watch-mode change, restart, memory, and the Go
# benchmarks of actors/reconciler), alternating the contenders in one run. BENCHFLAGS are
# ofbench's own, e.g. BENCHFLAGS='-runs 5' or '-million=false'.
BENCHFLAGS ?=

bench: install-ovs build
	$(GO) run ./cmd/ofbench $(BENCHFLAGS)

# The fleet row: 3 member processes, 12 bridges x 10k flows on one switch, etcd on loopback;
# converge, then kill -9 of the member owning the most bridges (docs/fleet.md).
bench-fleet: install-ovs install-etcd
	@mkdir -p bin
	$(GO) build -o bin/ofbench ./cmd/ofbench
	bin/ofbench fleet $(FLEETFLAGS)

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# The long forms of the fault tests (tests/soak_test.go, fleet/soak_test.go): 20 kill -9 trials in steady state and
# in the middle of a 100k-flow install, SIGSTOP for 15 s, two controllers on a fresh bridge 20
# times, panics in every actor; each prints "SOAK <what>: converged N/M, worst T".
soak: install-ovs install-etcd
	@mkdir -p bin
	$(GO) test -tags soak -timeout 60m -v -run 'Soak' ./tests/... ./fleet/... 2>&1 | tee bin/soak.log | grep -E '^(SOAK|--- |FAIL|ok|PASS)'
	@! grep -qE '^(--- FAIL|FAIL)' bin/soak.log

# The fleet's cross-process messages: proto/*.proto to proto/fleetpb/*.pb.go (committed). protoc
# from Debian (protobuf-compiler); protoc-gen-go at the google.golang.org/protobuf version of go.mod.
PROTOC_GEN_GO_VERSION = $(shell $(GO) list -m -f '{{.Version}}' google.golang.org/protobuf)

proto:
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	protoc --plugin=protoc-gen-go=bin/protoc-gen-go -I proto \
		--go_out=proto/fleetpb --go_opt=paths=source_relative proto/*.proto

clean:
	rm -rf bin

# uvs — userspace virtual server. `make help` lists the targets.
GO          ?= go
BIN         := bin
STATICCHECK_VERSION := v0.8.2
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)
PKGS        := ./...
# The profile `go build ./cmd/uvs` optimises with (PGO: go build finds
# default.pgo in the main package's directory); `make pgo` regenerates it.
PGO         := $(CURDIR)/cmd/uvs/default.pgo

.PHONY: help build test lint vet staticcheck bench pgo demo fuzz tools clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## static binaries (CGO_ENABLED=0) in bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ ./cmd/...

tools: ## install the pinned staticcheck from the module proxy
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

vet: ## go vet
	$(GO) vet $(PKGS)

staticcheck: ## staticcheck (installs the pinned version if missing)
	@test -x "$(STATICCHECK)" || $(MAKE) tools
	$(STATICCHECK) $(PKGS)

lint: vet staticcheck ## gofmt check, vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: lint build ## lint, then go test -race ./... (netns tests run as root, skip otherwise)
	$(GO) test -race -count=1 $(PKGS)

bench: ## go test -bench for the scheduler, conntrack, dataplane and bench/ (with the build's PGO profile) packages
	$(GO) test -run '^$$' -bench . -benchmem ./scheduler/ ./conntrack/ ./dataplane/
	$(GO) test -pgo=$(PGO) -run '^$$' -bench . -benchmem ./bench/

pgo: ## regenerate cmd/uvs/default.pgo, the build's PGO profile, from the bench/ pipeline benchmarks
	$(GO) test -pgo=off -run '^$$' -bench . -benchtime 3000000x -cpuprofile $(PGO) ./bench/
	rm -f bench.test # go test leaves the profiled binary behind

demo: build ## replay the examples (NAT, DR, TUN, IPv6) and print the text trace; no root needed
	@for d in $$(ls -d examples/*/ 2>/dev/null); do \
	  [ -f $$d/keepalived.conf ] || continue; \
	  echo "=== $$d"; \
	  $(BIN)/uvs replay -f $$d/keepalived.conf --in $$d/in.pcap --out /tmp/uvs-demo-out.pcap \
	    --trace - --trace-format text $$(cat $$d/replay.flags 2>/dev/null) || exit 1; \
	done

fuzz: ## run each fuzz target for 20s
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$p || exit 1; \
	  done; done

clean: ## remove bin/
	rm -rf $(BIN)

# pbxwatch — see README.md. The two commands a newcomer needs: `make demo`
# and `make test`.

GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VPKG     := github.com/prometheus/common/version
LDFLAGS  := -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=main
PLUGINS  := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))

.PHONY: all build generate test test-deps bench demo lint clean

all: build

## build: bin/pbxwatch, bin/pbxwatch-plugin-<name> for every plugins/<name>, the demo tool, and every example in bin/examples/
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/pbxwatch ./agent
	@for p in $(PLUGINS); do \
		echo "$(GO) build -o $(BIN)/pbxwatch-plugin-$$p ./plugins/$$p"; \
		$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/pbxwatch-plugin-$$p ./plugins/$$p || exit 1; \
	done
	@if [ -d tools/pbxwatch-demo ]; then $(GO) build -o $(BIN)/pbxwatch-demo ./tools/pbxwatch-demo; fi
	@# The examples, so they never rot, in a plugin dir of their own (they
	@# are not shipped): the SDK's, the template (its own module, built as a
	@# plugin author builds it) and the Python plugin with its library.
	$(GO) build -o $(BIN)/examples/pbxwatch-plugin-backup ./sdk/example
	cd examples/tlscheck && $(GO) build -o $(CURDIR)/$(BIN)/examples/pbxwatch-plugin-tlscheck .
	install -m 0755 examples/python/pbxwatch-plugin-ami $(BIN)/examples/pbxwatch-plugin-ami
	install -m 0644 sdk/python/pbxwatch_plugin.py $(BIN)/examples/pbxwatch_plugin.py

## generate: regenerate the plugin protocol's Go code (needs protoc, protoc-gen-go, protoc-gen-go-grpc)
generate:
	$(GO) generate ./internal/pluginpb/...

## test: every test, with the race detector, against the real Prometheus, Alertmanager, logrotate and Nagios plugins
test: test-deps
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -race -count=1 -timeout 30m ./...

## test-deps: say clearly which programs the integration tests need and are missing
test-deps:
	@scripts/check-test-deps.sh

## bench: Go benchmarks (median of 6 runs via benchstat) and the side-by-side log tailing script
bench:
	@mkdir -p $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee $(BIN)/bench.txt
	$(GO) tool benchstat $(BIN)/bench.txt
	@if [ -x scripts/bench-logtail.sh ]; then scripts/bench-logtail.sh; fi
	@if [ -x scripts/bench-accesslog.sh ]; then scripts/bench-accesslog.sh; fi

## demo: build everything and run the agent on simulators of WHMCS and FreePBX and a demo log
demo: build
	$(BIN)/pbxwatch-demo --bin-dir=$(BIN) --config=configs/demo.yaml --data-dir=demo-data

lint:
	$(GO) vet ./...
	gofmt -l .

clean:
	rm -rf $(BIN) demo-data

# pbxwatch — see README.md. The two commands a newcomer needs: `make demo`
# and `make test`.

GO       ?= go
BIN      ?= bin
DIST     ?= dist
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
# SOURCE_DATE_EPOCH (reproducible builds) fixes the build date when set.
BUILD_DATE ?= $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
# The agent copies these into prometheus/common/version (version.Print,
# pbxwatch_build_info); the plugins print them with --version.
VPKG     := github.com/pbxwatch/pbxwatch/sdk/buildversion
# Every binary is static (CGO_ENABLED=0: no libc, so it runs on FreePBX 16's
# glibc 2.17 as on FreePBX 17) and stamped with where it came from.
# -s -w drop the symbol and DWARF tables, as Debian's and Fedora's packaging
# strip binaries; stack traces keep their function names and lines.
LDFLAGS  := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) \
	-X $(VPKG).BuildUser=$(BUILD_USER) -X $(VPKG).BuildDate=$(BUILD_DATE)
GOBUILD  := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
# A VERSION given on the command line or in the environment also sets the
# package version; otherwise packaging/version.sh derives it from git.
PKG_VERSION_OVERRIDE := $(if $(filter command line environment,$(origin VERSION)),$(VERSION))
PLUGINS  := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))

# Install layout (`make install DESTDIR=... PREFIX=...`).
PREFIX      ?= /usr
SYSCONFDIR  ?= /etc
BINDIR      := $(PREFIX)/bin
LIBEXECDIR  := $(PREFIX)/libexec/pbxwatch
UNITDIR     := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
TMPFILESDIR := $(PREFIX)/lib/tmpfiles.d
DOCDIR      := $(PREFIX)/share/doc/pbxwatch
MANDIR      := $(PREFIX)/share/man
DOCS        := README.md $(wildcard docs/*.md)
EXAMPLES    := configs/pbxwatch.example.yaml configs/prometheus/pbxwatch.rules.yml configs/prometheus/prometheus.yml configs/alertmanager/alertmanager.yml
# Beside alertmanager.yml, which loads it as templates/pbxwatch.tmpl.
EXAMPLE_TEMPLATES := configs/alertmanager/templates/pbxwatch.tmpl

.PHONY: all help build install package generate test test-short test-deps fuzz fault bench demo lint clean

all: build

## help: list the targets with what each does (from the `## target:` comment above each)
help:
	@awk -F: 'NR == FNR { if (/^[a-z][a-z-]*:/) target[$$1] = 1; next } \
		/^## [a-z][a-z-]*:/ && substr($$1, 4) in target { t = substr($$1, 4) } /^## / && t != "" { sub(/^## /, ""); \
		if (index($$0, t ":") == 1) { sub(/^[a-z-]*: */, ""); printf "  %-10s %s\n", t, $$0 } else printf "  %-10s %s\n", "", $$0; next } \
		{ t = "" }' $(firstword $(MAKEFILE_LIST)) $(firstword $(MAKEFILE_LIST))

## build: bin/pbxwatch, bin/pbxwatch-plugin-<name> (a link to it) for every plugins/<name>, the demo tool, and every example in bin/examples/
build:
	$(GOBUILD) -o $(BIN)/pbxwatch ./agent
	@# One multi-call binary: each bundled plugin is a link to pbxwatch that
	@# runs the plugin when called by its name, so the agent and every plugin
	@# process share the binary's pages (docs/design.md).
	@for p in $(PLUGINS); do \
		echo "link $(BIN)/pbxwatch-plugin-$$p -> pbxwatch"; \
		ln -sfn pbxwatch $(BIN)/pbxwatch-plugin-$$p || exit 1; \
	done
	@if [ -d tools/pbxwatch-demo ]; then $(GOBUILD) -o $(BIN)/pbxwatch-demo ./tools/pbxwatch-demo; fi
	@# The examples, so they never rot, in a plugin dir of their own (they
	@# are not shipped): the SDK's, the template (its own module, built as a
	@# plugin author builds it) and the Python plugin with its library.
	cd sdk && $(GO) build -o $(abspath $(BIN))/examples/pbxwatch-plugin-backup ./example
	cd examples/tlscheck && $(GO) build -o $(abspath $(BIN))/examples/pbxwatch-plugin-tlscheck .
	install -m 0755 examples/python/pbxwatch-plugin-ami $(BIN)/examples/pbxwatch-plugin-ami
	install -m 0644 sdk/python/pbxwatch_plugin.py $(BIN)/examples/pbxwatch_plugin.py

## install: the agent, plugins, unit, sysusers/tmpfiles entries, config, docs under DESTDIR (PREFIX=/usr); an existing config is kept
install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(DOCDIR)/examples/templates $(DESTDIR)$(SYSCONFDIR)/pbxwatch $(DESTDIR)$(SYSCONFDIR)/default
	install -m 0755 $(BIN)/pbxwatch $(DESTDIR)$(BINDIR)/pbxwatch
	@# Relative links, so the tree works wherever DESTDIR puts it.
	rel=$$(realpath -m --relative-to=$(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR)/pbxwatch) && \
		for p in $(PLUGINS); do ln -sfn "$$rel" $(DESTDIR)$(LIBEXECDIR)/pbxwatch-plugin-$$p || exit 1; done
	for f in systemd/*.service systemd/*.conf; do [ -e "$$f" ] || continue; \
		sed -e 's|/usr/bin/pbxwatch|$(BINDIR)/pbxwatch|g' -e 's|/etc/pbxwatch|$(SYSCONFDIR)/pbxwatch|g' "$$f" \
			> $(DESTDIR)$(UNITDIR)/$${f#systemd/} && chmod 0644 $(DESTDIR)$(UNITDIR)/$${f#systemd/} || exit 1; done
	install -m 0644 packaging/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/pbxwatch.conf
	sed 's|/etc/pbxwatch|$(SYSCONFDIR)/pbxwatch|g' packaging/tmpfiles.conf > $(DESTDIR)$(TMPFILESDIR)/pbxwatch.conf
	packaging/manpage.sh $(BIN)/pbxwatch $(VERSION) | gzip -9n > $(DESTDIR)$(MANDIR)/man1/pbxwatch.1.gz
	install -m 0644 $(DOCS) packaging/copyright $(DESTDIR)$(DOCDIR)/
	GO=$(GO) packaging/notices.sh ./agent $(addprefix ./plugins/,$(PLUGINS)) | gzip -9n > $(DESTDIR)$(DOCDIR)/third-party-notices.gz
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(EXAMPLE_TEMPLATES) $(DESTDIR)$(DOCDIR)/examples/templates/
	install -d $(DESTDIR)$(PREFIX)/share/pbxwatch
	install -m 0755 scripts/accesslog-acl.sh $(DESTDIR)$(PREFIX)/share/pbxwatch/accesslog-acl.sh
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/pbxwatch/pbxwatch.yaml ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/pbxwatch/pbxwatch.yaml"; \
	else \
		sed 's|/usr/libexec/pbxwatch|$(LIBEXECDIR)|g' configs/pbxwatch.yaml > $(DESTDIR)$(SYSCONFDIR)/pbxwatch/pbxwatch.yaml && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/pbxwatch/pbxwatch.yaml; \
	fi
	@[ -e $(DESTDIR)$(SYSCONFDIR)/default/pbxwatch ] || install -m 0644 packaging/default $(DESTDIR)$(SYSCONFDIR)/default/pbxwatch
	@if [ -z "$(DESTDIR)" ]; then \
		echo "Now create the user and directories: systemd-sysusers pbxwatch.conf && systemd-tmpfiles --create pbxwatch.conf"; \
	fi

## package: dist/pbxwatch_VERSION_amd64.deb and dist/pbxwatch-VERSION-1.x86_64.rpm (nfpm, a Go tool of this module); VERSION=1.2.3 sets the version
# The .rpm (FreePBX 16, systemd 219) gets the units of systemd/el7/ when
# that exists; each package ships the options file at the path its unit's
# EnvironmentFile= names.
package:
	@set -e; pkgver=$$(VERSION='$(PKG_VERSION_OVERRIDE)' packaging/version.sh); \
	work=$(abspath $(BIN))/package; dist=$(abspath $(DIST)); \
	echo "package version $$pkgver"; \
	rm -rf "$$work"; mkdir -p "$$work/scripts/deb" "$$work/scripts/rpm" "$$dist"; \
	$(MAKE) --no-print-directory install DESTDIR="$$work/root" PREFIX=/usr SYSCONFDIR=/etc; \
	PKG_VERSION=$$pkgver packaging/changelog.sh | gzip -9n > "$$work/root$(DOCDIR)/changelog.gz"; \
	install -D -m 0644 packaging/lintian-overrides "$$work/root/usr/share/lintian/overrides/pbxwatch"; \
	for f in packaging/deb/* packaging/rpm/*; do \
		sed -e '/^@SETUP@$$/{r packaging/setup.sh' -e 'd;}' "$$f" > "$$work/scripts/$${f#packaging/}"; \
	done; \
	rpmunits=systemd; if [ -d systemd/el7 ]; then rpmunits=systemd/el7; fi; \
	mkdir -p "$$work/rpmroot/usr/lib/systemd/system"; \
	install -m 0644 $$rpmunits/*.service "$$work/rpmroot/usr/lib/systemd/system/"; \
	DEB_ENV_FILE=$$(packaging/envfile.sh "$$work/root/usr/lib/systemd/system/pbxwatch.service"); \
	RPM_ENV_FILE=$$(packaging/envfile.sh "$$work/rpmroot/usr/lib/systemd/system/pbxwatch.service"); \
	export PKG_VERSION=$$pkgver DEB_ENV_FILE RPM_ENV_FILE; \
	cp packaging/nfpm.yaml "$$work/"; \
	nfpm=$$($(GO) tool -n nfpm); \
	(cd "$$work" && "$$nfpm" package -f nfpm.yaml -p deb -t "$$dist/pbxwatch_$${pkgver}_amd64.deb" && \
		"$$nfpm" package -f nfpm.yaml -p rpm -t "$$dist/pbxwatch-$${pkgver}-1.x86_64.rpm")

## generate: regenerate the plugin protocol's and Remote-Write 1.0's Go code (needs protoc, protoc-gen-go, protoc-gen-go-grpc)
generate:
	cd sdk && $(GO) generate ./proto/...
	$(GO) generate ./agent/internal/remotewrite/writev1

## test: every test, with the race detector, against the real Prometheus, Alertmanager, logrotate and Nagios plugins
test: test-deps
	$(GO) vet ./...
	cd sdk && $(GO) vet ./...
	$(GO) mod tidy -diff
	cd sdk && $(GO) mod tidy -diff
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -race -count=1 -timeout 30m ./...
	cd sdk && $(GO) test -race -count=1 -timeout 10m ./...
	@$(MAKE) --no-print-directory fuzz

## test-short: the fast tier for the edit-test loop: go test -short, both modules; skips what starts real servers, Chromium, systemd-nspawn or builds packages
test-short:
	$(GO) test -short ./...
	cd sdk && $(GO) test -short ./...

## fuzz: every fuzz target over what the agent reads from outside
## (package:target:executions). Budgets are execution counts, about 2 s each
## here: Go 1.26's -fuzztime=<duration> can fail a healthy target with
## "context deadline exceeded" at the deadline (go.dev/issue/75804, fixed in
## Go 1.27), which CI saw; a count has no deadline to race.
## `make fuzz FUZZTIME=10m` fuzzes every target that long instead.
FUZZTIME ?=
FUZZ_TARGETS := \
	./agent/internal/config:FuzzParse:10000 \
	./sdk:FuzzResultAtTheBoundary:10000 ./sdk:FuzzScrub:3000 \
	./plugins/whmcs:FuzzConfig:500 ./plugins/whmcs:FuzzServerBody:200 ./plugins/whmcs:FuzzClassify:2000 \
	./plugins/freepbx:FuzzConfig:3000 ./plugins/freepbx:FuzzServerBody:200 \
	./plugins/freepbx:FuzzClassifyToken:300 ./plugins/freepbx:FuzzClassifyProbe:1500 \
	./plugins/logtail:FuzzConfig:2000 ./plugins/logtail:FuzzParseLine:20000 ./plugins/logtail:FuzzRedact:10000 \
	./plugins/accesslog:FuzzConfig:2000 ./plugins/accesslog:FuzzParseLine:20000 \
	./plugins/nagios:FuzzConfig:2000 ./plugins/nagios:FuzzParsePerfdata:800 \
	./internal/freepbxdb:FuzzParseConf:5000 ./internal/frontlayer:FuzzScrub:3000
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest##*:}x; dir=.; \
		[ -n "$(FUZZTIME)" ] && budget=$(FUZZTIME); \
		case $$pkg in ./sdk) dir=sdk pkg=. ;; ./sdk/*) dir=sdk pkg=./$${pkg#./sdk/} ;; esac; \
		echo "(cd $$dir && $(GO) test -run='^$$' -fuzz='^$$name\$$' -fuzztime=$$budget $$pkg)"; \
		(cd $$dir && $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$$budget $$pkg) || exit 1; \
	done

## fault: the fault suite, every test named TestFault* or TestHostile* (main module and sdk): alias bombs under a memory
## limit, secrets in every form over every surface, the reload loop, plugin deaths, hostile answers
## (they are part of `make test` too: each runs in bounded time)
fault: test-deps
	$(GO) test -race -count=1 -timeout 20m -run '^(TestFault|TestHostile)' ./...
	cd sdk && $(GO) test -race -count=1 -timeout 10m -run '^(TestFault|TestHostile)' ./...

## test-deps: say clearly which programs the integration tests need and are missing
test-deps:
	@scripts/check-test-deps.sh

## bench: Go benchmarks (median of 6 runs via benchstat), the side-by-side log tailing scripts, scale, the demo's memory per process, and memory across 1,000 reloads
bench:
	@mkdir -p $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee $(BIN)/bench.txt
	cd sdk && $(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee -a $(abspath $(BIN))/bench.txt
	$(GO) tool benchstat $(BIN)/bench.txt
	@if [ -x scripts/bench-logtail.sh ]; then scripts/bench-logtail.sh; fi
	@if [ -x scripts/bench-accesslog.sh ]; then scripts/bench-accesslog.sh; fi
	@if [ -x scripts/bench-scale.sh ]; then scripts/bench-scale.sh; fi
	@if [ -x scripts/bench-demo-memory.sh ]; then scripts/bench-demo-memory.sh; fi
	@if [ -x scripts/bench-reload.sh ]; then scripts/bench-reload.sh; fi
	@if [ -x scripts/bench-remote-write.sh ]; then BIN=$(BIN) scripts/bench-remote-write.sh; fi

## demo: build everything and run the agent on simulators of WHMCS and FreePBX and a demo log
demo: build
	$(BIN)/pbxwatch-demo --bin-dir=$(BIN) --config=configs/demo.yaml --data-dir=demo-data

## lint: go vet for the main module and the SDK, and the files gofmt would change
lint:
	$(GO) vet ./...
	cd sdk && $(GO) vet ./...
	gofmt -l .

## clean: remove bin/, dist/ and the demo's data
clean:
	rm -rf $(BIN) $(DIST) demo-data

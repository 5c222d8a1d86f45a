# kiroku — build, run and test. `make run` and `make test` work on a fresh
# Debian 12 machine as root: missing system packages, browser test modules and
# the MinIO and NATS test servers are installed on first use and cached afterwards.

SHELL        := /bin/bash
GO           ?= go
CACHE_DIR    ?= $(HOME)/.cache/kiroku
# MinIO server used by the uploader's integration tests, built once from the
# Go module proxy at this pinned version and cached outside the repository.
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_BIN     := $(CACHE_DIR)/bin/minio-$(MINIO_VERSION)
# NATS server (JetStream) for the cluster tests and benchmark, built the
# same way.
NATS_SERVER_VERSION := v2.15.3
NATS_SERVER_BIN     := $(CACHE_DIR)/bin/nats-server-$(NATS_SERVER_VERSION)
# Debian packages the tests drive: ffmpeg/ffprobe and mkvtoolnix judge our
# files, chromium runs sora-js-sdk, iproute2/util-linux build the test netns,
# prometheus brings promtool, which checks the SFU's /metrics text; nginx
# (with its stream module), nftables and certutil (libnss3-tools) run the
# 443-only edge of deploy/nginx with UDP blocked and a test CA trusted.
APT_PACKAGES  := ffmpeg mkvtoolnix chromium iproute2 util-linux prometheus nginx libnginx-mod-stream nftables libnss3-tools systemd
FIXTURE_APT_PACKAGES := gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
                        gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad
BROWSER_DIR   := test/browser
TEST_TIMEOUT  ?= 45m

export KIROKU_MINIO_BIN := $(MINIO_BIN)
export KIROKU_NATS_SERVER_BIN := $(NATS_SERVER_BIN)

.PHONY: run build test test-go vet bench fixtures deps deps-apt deps-node deps-minio deps-nats deps-fixtures deps-bench clean

## run: start the SFU on working defaults (no config file needed)
run:
	$(GO) run ./cmd/sfu $(ARGS)

build:
	$(GO) build -o bin/sfu ./cmd/sfu
	$(GO) build -o bin/uploader ./cmd/uploader

## test: install what is missing, then vet and run every test with the race detector
test: deps vet test-go

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# The browser tests run alone, after the rest: four Chromium pages encoding
# simulcast on two cores are timed, and must not share them with ffmpeg.
test-go:
	$(GO) test -race -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v '/test/e2e$$')
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./test/e2e

## bench: replay fixtures and services; prints ratios against same-run baselines
# bench/ingest measures kiroku a second time ("B" rows) with the setting
# for nodes that mostly record; set KIROKU_INGEST_B_CONF= to skip them.
bench: export KIROKU_INGEST_B_CONF ?= udp_receive_coalesce = 20 ms
bench: deps deps-bench
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x -timeout 60m ./... | tee bench.out

## fixtures: regenerate fixtures/rtpdumps deterministically (needs ffmpeg and GStreamer)
fixtures: deps-apt deps-fixtures
	$(GO) run ./fixtures/gen -out fixtures/rtpdumps

deps: deps-apt deps-node deps-minio deps-nats

# GStreamer makes the captures whose parameter sets are only in the SDP
# (x264enc, x265enc, h265parse, rtph264pay/rtph265pay). Only `make fixtures`
# needs it: the captures are committed, so `make test` does not.
deps-fixtures:
	@$(MAKE) --no-print-directory deps-apt APT_PACKAGES="$(FIXTURE_APT_PACKAGES)"

# Janus, which bench/ingest measures kiroku against, at Debian 12's
# version; only `make bench` needs it.
JANUS_VERSION := 1.1.2-1
deps-bench:
	@if [ "$$(dpkg-query -W -f='$${Status} $${Version}' janus 2>/dev/null)" != "install ok installed $(JANUS_VERSION)" ]; then \
	  echo "installing janus=$(JANUS_VERSION)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends janus=$(JANUS_VERSION); \
	fi

deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

deps-node:
	@if [ -f $(BROWSER_DIR)/package-lock.json ]; then \
	  if ! cmp -s $(BROWSER_DIR)/package-lock.json $(BROWSER_DIR)/node_modules/.kiroku-lock 2>/dev/null; then \
	    (cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error) && \
	    cp $(BROWSER_DIR)/package-lock.json $(BROWSER_DIR)/node_modules/.kiroku-lock; \
	  fi; \
	fi

deps-minio: $(MINIO_BIN)

$(MINIO_BIN):
	@mkdir -p $(CACHE_DIR)/bin $(CACHE_DIR)/gobin
	@echo "building MinIO $(MINIO_VERSION) for the uploader tests (once, a few minutes)"
	cd /tmp && GOFLAGS= GOBIN=$(CACHE_DIR)/gobin $(GO) install github.com/minio/minio@$(MINIO_VERSION)
	mv $(CACHE_DIR)/gobin/minio $(MINIO_BIN)

deps-nats: $(NATS_SERVER_BIN)

$(NATS_SERVER_BIN):
	@mkdir -p $(CACHE_DIR)/bin $(CACHE_DIR)/gobin
	@echo "building nats-server $(NATS_SERVER_VERSION) for the cluster tests (once, a minute or two)"
	cd /tmp && GOFLAGS= GOBIN=$(CACHE_DIR)/gobin $(GO) install github.com/nats-io/nats-server/v2@$(NATS_SERVER_VERSION)
	mv $(CACHE_DIR)/gobin/nats-server $(NATS_SERVER_BIN)

clean:
	rm -rf bin bench.out

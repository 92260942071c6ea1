# Switchboard. `make run` builds and starts the gateway on the embedded
# defaults; `make test` runs the whole suite. Both install what they need.

GO       ?= go
BIN      := bin/switchboard
CONFIG   ?= configs/switchboard.yaml
# Debian packages the targets need: the PostgreSQL client (pg_isready) and
# Chromium for the browser tests, sip-tester for its RTP and DTMF captures;
# the suite's PostgreSQL runs at 127.0.0.1:5432.
TEST_DEBS := postgresql-client chromium sip-tester

.PHONY: all build run test bench lint fuzz deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/switchboard

run: build
	./$(BIN) serve --config $(CONFIG)

deps:
	@scripts/debs.sh $(TEST_DEBS)

test: deps
	$(GO) vet ./...
	$(GO) test -race -shuffle=on -count=1 ./...

bench: deps
	scripts/bench.sh docs/benchmarks.md

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Run every fuzz target for FUZZTIME each; new crashers land in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz FuzzKnowledgeLoad -fuzztime $(FUZZTIME) ./dialog
	$(GO) test -run '^$$' -fuzz FuzzDecide -fuzztime $(FUZZTIME) ./handoff
	$(GO) test -run '^$$' -fuzz FuzzDetailsRoundTrip -fuzztime $(FUZZTIME) ./channels/webchat
	$(GO) test -run '^$$' -fuzz FuzzNegotiate -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz FuzzContextHeaders -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz FuzzDTMF -fuzztime $(FUZZTIME) ./media

clean:
	rm -rf bin

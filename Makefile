# Switchboard. `make run` builds and starts the gateway on the embedded
# defaults; `make test` runs the whole suite. Both install what they need.

GO       ?= go
BIN      := bin/switchboard
CONFIG   ?= configs/switchboard.yaml
# Debian packages the targets need. The build compiles Opus, the codec of
# browser calls, against libopus through cgo (gcc, pkg-config). The
# gateway speaks with flite and listens with pocketsphinx (phone calls);
# the suite also needs the PostgreSQL client (pg_isready), Chromium for
# the browser tests and sip-tester (sipp, with its RTP and DTMF captures)
# and baresip (a real softphone) for the phone tests, and kamailio for the
# load-balancing example (configs/kamailio); the suite's PostgreSQL runs
# at 127.0.0.1:5432.
BUILD_DEBS := gcc pkg-config libopus-dev
RUN_DEBS   := flite pocketsphinx pocketsphinx-en-us
TEST_DEBS  := $(BUILD_DEBS) $(RUN_DEBS) postgresql-client chromium sip-tester baresip kamailio
# Ports: `make run HTTP=:8081 SIP=:5061` serves there instead of the
# config's listen.http and listen.sip; `make call SIP_TARGET=127.0.0.1:5061`
# calls a gateway there.
HTTP       ?=
SIP        ?=
SIP_TARGET ?= 127.0.0.1:5060

.PHONY: all build builddeps run call test bench lint fuzz deps clean

all: build

builddeps:
	@scripts/debs.sh --for "the build (Opus for browser calls: libopus through cgo)" $(BUILD_DEBS)

build: builddeps
	@[ -e $(BIN) ] || echo "building $(BIN)… (the first build compiles every module: a few minutes)"
	$(GO) build -o $(BIN) ./cmd/switchboard

run: build
	@scripts/debs.sh --for "speech on phone calls (flite speaks, pocketsphinx listens)" $(RUN_DEBS)
	./$(BIN) serve --config $(CONFIG)$(if $(HTTP), --http $(HTTP))$(if $(SIP), --sip $(SIP))

# A test call from sipp (Debian sip-tester): it presses 0 after the greeting
# and accepts the transfer the gateway asks for (see README).
call:
	@scripts/debs.sh --for "the test call (sipp)" sip-tester
	sipp $(SIP_TARGET) -sf testdata/sipp/call_press_zero.xml -s support -m 1 -i 127.0.0.1 -p 5090 -trace_msg -message_file /tmp/switchboard-call.log

deps:
	@scripts/debs.sh --for "the test suite (libopus, speech, PostgreSQL client, Chromium, sipp, baresip, kamailio)" $(TEST_DEBS)

test: deps
	$(GO) vet ./...
	$(GO) test -race -shuffle=on -count=1 ./...

bench: deps
	scripts/bench.sh docs/benchmarks.md

lint: builddeps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Run every fuzz target for FUZZTIME each; new crashers land in testdata/fuzz.
FUZZTIME ?= 30s
fuzz: builddeps
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzKnowledgeLoad$$' -fuzztime $(FUZZTIME) ./dialog
	$(GO) test -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME) ./handoff
	$(GO) test -run '^$$' -fuzz '^FuzzDetailsRoundTrip$$' -fuzztime $(FUZZTIME) ./handoff
	$(GO) test -run '^$$' -fuzz '^FuzzMask$$' -fuzztime $(FUZZTIME) ./handoff
	$(GO) test -run '^$$' -fuzz '^FuzzNegotiate$$' -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz '^FuzzContextHeaders$$' -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz '^FuzzParseAnswer$$' -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz '^FuzzParseSipfrag$$' -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz '^FuzzAdmitAuthorization$$' -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz '^FuzzCheckRequest$$' -fuzztime $(FUZZTIME) ./sip
	$(GO) test -run '^$$' -fuzz '^FuzzDTMF$$' -fuzztime $(FUZZTIME) ./media
	$(GO) test -run '^$$' -fuzz '^FuzzJitter$$' -fuzztime $(FUZZTIME) ./media
	$(GO) test -run '^$$' -fuzz '^FuzzRTPPacket$$' -fuzztime $(FUZZTIME) ./media
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./media/g722
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./media/opus
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeWAV$$' -fuzztime $(FUZZTIME) ./speech
	$(GO) test -run '^$$' -fuzz '^FuzzPocketsphinxOutput$$' -fuzztime $(FUZZTIME) ./speech

clean:
	rm -rf bin

# Sira: plain GNU make. See README.md for the two commands a newcomer needs.
#
#   make            build bin/sira-cert (and later bin/sira-broker, bin/sira-agent)
#   make deps       install the Debian 12 packages the build and tests need
#   make test       build and run every test; ends with "tests: N passed, M failed"
#   make check      the same tests built with AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer harnesses (clang); FUZZ_SECONDS=N runs them
#   make bench      build and run the benchmarks (never part of test)
#   make soak       the long chaos run: thousands of messages, 100+ crashes
#   make lint       clang-format check, cppcheck, clang-tidy, trust-boundary checks
#   make po         refresh po/sira.pot and po/*.po from the agent's sources
#   make format     clang-format our sources in place
#   make install    PREFIX=/usr/local DESTDIR=
#   make demo       the national referral scenario on loopback
#   make clean

O ?= build/release
BIN ?= bin
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
PKGS := libzmq libsodium lmdb libprotobuf-c jansson libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wconversion -Wno-sign-conversion \
	-Wpointer-arith -Wcast-qual -Wundef
HARDEN ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
SAN ?=
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) $(HARDEN) \
	$(SAN) -MMD -MP -Ilib -isystem $(O)/gen/proto $(PKG_CFLAGS)
# Generated protobuf-c code casts away const; relax that one warning there.
GEN_CFLAGS := $(filter-out -Wcast-qual,$(ALL_CFLAGS))
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)

PROTOS := $(wildcard proto/*.proto)
GEN_C := $(patsubst proto/%.proto,$(O)/gen/proto/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)
GEN_O := $(GEN_C:.c=.o)

LIB_SRC := $(wildcard lib/*.c)
LIB_O := $(patsubst %.c,$(O)/%.o,$(LIB_SRC))
LIBSIRA := $(O)/libsira.a

# Each program's modules (all but main.c) form an archive, so unit tests can
# link any module and the broker can never pick up agent code by accident.
CERT_SRC := $(wildcard certs/*.c)
BROKER_SRC := $(wildcard broker/*.c)
AGENT_SRC := $(wildcard agents/*/*.c)
mods = $(patsubst %.c,$(O)/%.o,$(filter-out %/main.c,$(1)))
LIBCERTS := $(O)/libcerts.a
LIBBROKER := $(O)/libbroker.a
LIBAGENT := $(O)/libagent.a
MOD_LIBS := $(LIBCERTS) $(LIBBROKER) $(LIBAGENT)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
CLI_TESTS := $(wildcard tests/cli/test_*.sh)
E2E_TESTS := $(wildcard tests/e2e/test_*.sh)

PROGS := $(BIN)/sira-cert $(BIN)/sira-broker $(BIN)/sira-agent

# The agent's message catalogues (gettext): English msgids in the sources,
# po/fr.po translates every one, po/en.po may leave them untranslated.
# l10n and l10n_n: English-or-translated, in agents/cli/case_report.c.
# Locations name files, not lines, so only a changed message dates the .pot.
LANGS := fr en
MO := $(patsubst %,$(BIN)/locale/%/LC_MESSAGES/sira.mo,$(LANGS))
PO_SRC := $(sort $(AGENT_SRC) $(CERT_SRC) lib/i18n.c)
XGETTEXT := xgettext --language=C --from-code=UTF-8 --keyword=_ \
	--keyword=N_ --keyword=usage_error --keyword=l10n:2 --keyword=l10n_n:2,3 \
	--add-comments=TRANSLATORS --add-location=file --package-name=sira

.PHONY: all deps deps-deb screens test check soak fuzz bench lint format install demo \
	clean unit-bins po
.SUFFIXES:
.SECONDARY:

all: $(PROGS) $(MO)

# ---- code generation and compilation ----

$(O)/gen/proto/%.pb-c.c $(O)/gen/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=proto --c_out=$(O)/gen/proto $<

$(O)/gen/proto/%.pb-c.o: $(O)/gen/proto/%.pb-c.c $(GEN_H)
	$(CC) $(GEN_CFLAGS) -c -o $@ $<

$(O)/%.o: %.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBSIRA): $(LIB_O) $(GEN_O)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(LIBCERTS): $(call mods,$(CERT_SRC))
$(LIBBROKER): $(call mods,$(BROKER_SRC))
$(LIBAGENT): $(call mods,$(AGENT_SRC))
$(MOD_LIBS):
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN)/sira-cert: $(O)/certs/main.o $(LIBCERTS) $(LIBSIRA)
$(BIN)/sira-broker: $(O)/broker/main.o $(LIBBROKER) $(LIBSIRA)
$(BIN)/sira-agent: $(O)/agents/cli/main.o $(LIBAGENT) $(LIBSIRA)
$(PROGS):
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/locale/%/LC_MESSAGES/sira.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<

# Unit tests link the module archives; the linker takes only what a test
# uses, so a broker test never pulls in agent code.
$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(MOD_LIBS) $(LIBSIRA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# The agent's rooms include each other as "room/file.h"; tests reach
# module headers of the broker and the agent.
$(O)/agents/%.o: ALL_CFLAGS += -Iagents
$(O)/lib/i18n.o: ALL_CFLAGS += -DSIRA_LOCALEDIR='"$(PREFIX)/share/locale"'
$(O)/tests/%.o: ALL_CFLAGS += -Ibroker -Iagents -Icerts
# test_i18n reads the catalogues make builds into $(BIN)/locale.
$(O)/tests/test_i18n: | $(MO)

# Test tools: real clients for the end-to-end tests (never installed).
# sira-probe: a hand-driven agency client; sira-fill: months of history;
# sira-load: the load driver of make bench; sira-linkemu: the EDGE link
# of tests/bench/bench_edge.sh.
PROBE_SRC := $(wildcard tests/tools/probe_*.c)
PROBE := $(O)/tools/sira-probe
FILL := $(O)/tools/sira-fill
LOAD := $(O)/tools/sira-load
$(PROBE): $(patsubst %.c,$(O)/%.o,$(PROBE_SRC)) $(MOD_LIBS) $(LIBSIRA)
$(FILL): $(O)/tests/tools/fill_history.o $(MOD_LIBS) $(LIBSIRA)
$(LOAD): $(O)/tests/tools/bench_load.o $(MOD_LIBS) $(LIBSIRA)
$(PROBE) $(FILL) $(LOAD):
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
EMU := $(O)/tools/sira-linkemu
$(EMU): $(O)/tests/tools/linkemu.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

unit-bins: $(UNIT_BIN) $(PROBE) $(FILL)

# ---- dependencies (Debian 12) ----

DEB_PKGS := build-essential pkg-config libzmq3-dev libsodium-dev liblmdb-dev \
	lmdb-utils libprotobuf-c-dev protobuf-c-compiler libjansson-dev \
	libcmocka-dev clang clang-format clang-tidy cppcheck jq procps python3 \
	gettext libmicrohttpd-dev chromium openssl curl
# The browser tests (tests/web): Debian's chromium driven by playwright-core
# from npm, pinned in tests/web/package-lock.json. Node.js and npm come
# with the machine; Debian's are installed when they are missing.
WEB_NODE := tests/web/node_modules/playwright-core/package.json

deps: deps-deb $(WEB_NODE)

$(WEB_NODE): tests/web/package-lock.json
	cd tests/web && npm ci --no-audit --no-fund
	@touch $@

deps-deb:
	@missing=""; command -v npm >/dev/null || missing="nodejs npm"; \
	for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	        grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	    echo "missing packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	fi

# ---- tests ----

test: deps
	@$(MAKE) --no-print-directory all unit-bins
	@O=$(O) BIN=$(BIN) sh tests/run.sh $(UNIT_BIN) $(CLI_TESTS) $(E2E_TESTS)

# The long chaos run (tests/chaos/chaos.py; make test runs a short one).
# SOAK_SEED=N replays a plan; SOAK_DIR=D keeps its files in D.
SOAK_ARGS ?= --agencies 4 --messages 2500 --kills 150 --stops 3 \
	--stop-seconds 13 --killed-sends 10 --settle 300
soak: deps
	@$(MAKE) --no-print-directory all
	@/usr/bin/python3 tests/chaos/chaos.py --bin $(BIN) $(SOAK_ARGS) \
	    $(if $(SOAK_SEED),--seed $(SOAK_SEED)) \
	    $(if $(SOAK_DIR),--work $(SOAK_DIR))

# Same tests, separate object tree, sanitizers on, no _FORTIFY_SOURCE (its
# wrappers can hide overflows from ASan).
check: deps
	@$(MAKE) --no-print-directory O=build/check BIN=build/check/bin \
	    CFLAGS='-O1 -g -fno-omit-frame-pointer' HARDEN='-fPIE' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' test
	@if command -v clang >/dev/null; then \
	    $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}; \
	else echo "clang not found: fuzzers skipped"; fi

# ---- fuzzing (clang + libFuzzer) ----
# Harnesses link the library and the broker and agent modules, compiled once
# with clang into build/fuzz/.

FO := build/fuzz
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FO)/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -MMD -MP \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-Ilib -Ibroker -Iagents -isystem $(FO)/gen/proto $(PKG_CFLAGS)
FUZZ_GEN_C := $(patsubst proto/%.proto,$(FO)/gen/proto/%.pb-c.c,$(PROTOS))
# Archives, so a harness pulls in only the modules it uses.
FUZZ_LIBS := $(FO)/libbroker.a $(FO)/libagent.a $(FO)/libsira.a
$(FO)/libsira.a: $(patsubst %.c,$(FO)/%.o,$(LIB_SRC)) $(FUZZ_GEN_C:.c=.o)
$(FO)/libbroker.a: $(patsubst %.c,$(FO)/%.o,$(filter-out %/main.c,$(BROKER_SRC)))
$(FO)/libagent.a: $(patsubst %.c,$(FO)/%.o,$(filter-out %/main.c,$(AGENT_SRC)))
$(FUZZ_LIBS):
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(FO)/gen/proto/%.pb-c.c $(FO)/gen/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=proto --c_out=$(FO)/gen/proto $<

$(FO)/gen/proto/%.pb-c.o: $(FO)/gen/proto/%.pb-c.c $(FUZZ_GEN_C:.c=.h)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FO)/%.o: %.c $(FUZZ_GEN_C:.c=.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FO)/fuzz_%: $(FO)/tests/fuzz/fuzz_%.o $(FUZZ_LIBS)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	@if [ -n "$(FUZZ_SECONDS)" ]; then for f in $(FUZZ_BIN); do \
	    n=$$(basename $$f); mkdir -p $(FO)/corpus/$$n; \
	    echo "fuzzing $$n for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        $(FO)/corpus/$$n tests/fuzz/corpus/$$n >$(FO)/$$n.log 2>&1 || \
	        { tail -40 $(FO)/$$n.log; exit 1; }; \
	    grep -E '^#[0-9]+.*DONE' $(FO)/$$n.log | tail -1; \
	done; fi

# ---- benchmarks ----

# Not tests: never run by make test. Linked like the unit tests; each prints
# key=value lines. Build and run in another tree with O=... BIN=... bench.

$(O)/bench/bench_envelope: tests/bench/bench_envelope.c $(MOD_LIBS) $(LIBSIRA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iagents -MT $@ -c -o $@.o $<
	$(CC) $(ALL_LDFLAGS) -o $@ $@.o $(MOD_LIBS) $(LIBSIRA) $(PKG_LIBS)

# The peer broker of make bench (NATS JetStream), from Debian: only for
# the benchmark, so not in DEB_PKGS. bench_nats is built when libnats is.
BENCH_PKGS := nats-server libnats-dev
deps-bench: deps
	@missing=""; for p in $(BENCH_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	        grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	    echo "run: sudo apt-get install -y$$missing"; exit 1; \
	fi

$(O)/bench/bench_nats: tests/bench/bench_nats.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(ALL_LDFLAGS) -lnats

$(O)/bench/bench_limits: tests/bench/bench_limits.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(PKG_LIBS)

# The figures of one run: envelope functions, the machine's limits, then
# the whole system (tests/bench/bench_e2e.sh: real broker and agents).
bench: deps-bench $(O)/bench/bench_envelope $(O)/bench/bench_limits all \
	$(LOAD) $(PROBE) $(O)/bench/bench_nats $(EMU)
	@$(O)/bench/bench_envelope
	@$(O)/bench/bench_limits
	@O=$(O) BIN=$(BIN) sh tests/bench/bench_e2e.sh
	@O=$(O) BIN=$(BIN) sh tests/bench/bench_scale.sh
	@O=$(O) BIN=$(BIN) sh tests/bench/bench_edge.sh

# ---- style and static checks ----

# clang-tidy reads the code that ships; tests are formatted and cppchecked.
PROD_SRC := $(wildcard lib/*.c certs/*.c broker/*.c agents/*/*.c)
OUR_SRC := $(wildcard lib/*.[ch] certs/*.[ch] broker/*.[ch] agents/*/*.[ch] \
	tests/unit/*.c tests/fuzz/*.c tests/tools/*.[ch] tests/bench/*.c)

format:
	clang-format -i $(OUR_SRC)

lint: $(GEN_H) $(PROGS)
	clang-format --dry-run -Werror $(OUR_SRC)
	cppcheck --std=c11 --enable=warning,portability,performance \
	    --error-exitcode=1 --inline-suppr --quiet \
	    --suppress=missingIncludeSystem -Ilib -Iagents -I$(O)/gen/proto \
	    lib certs broker agents
	clang-tidy --quiet $(filter %.c,$(PROD_SRC)) -- -std=c11 \
	    -D_POSIX_C_SOURCE=200809L -Ilib -Ibroker -Iagents \
	    -isystem $(O)/gen/proto $(PKG_CFLAGS)
	sh tests/lint_boundary.sh
	/usr/bin/python3 tests/lint_calls.py 'agents/*/*.c' 'lib/*.c' \
	    'certs/*.c' 'broker/*.c'
	@$(XGETTEXT) -o $(O)/sira.pot $(PO_SRC) && \
	    diff -q -I '^"POT-Creation-Date:' po/sira.pot $(O)/sira.pot \
	    >/dev/null || { \
	    echo "lint: po/sira.pot is out of date with the sources: run make po"; \
	    exit 1; }
	@msgcmp po/fr.po po/sira.pot && \
	    [ -z "$$(msgattrib --untranslated po/fr.po; \
	        msgattrib --only-fuzzy po/fr.po)" ] || { \
	    echo "lint: po/fr.po has untranslated or fuzzy messages: run make po, then translate them"; \
	    exit 1; }
	@echo "lint: message catalogues up to date"

# The catalogue template from the sources, merged into each language; a
# template that differs only by its date is left as it was.
po:
	@mkdir -p $(O)
	$(XGETTEXT) -o $(O)/sira.pot $(PO_SRC)
	diff -q -I '^"POT-Creation-Date:' po/sira.pot $(O)/sira.pot \
	    >/dev/null 2>&1 || cp $(O)/sira.pot po/sira.pot
	for l in $(LANGS); do \
	    msgmerge --quiet --update --backup=none po/$$l.po po/sira.pot; \
	done

# ---- install, demo, clean ----

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	for l in $(LANGS); do \
	    install -d $(DESTDIR)$(PREFIX)/share/locale/$$l/LC_MESSAGES && \
	    install -m 0644 $(BIN)/locale/$$l/LC_MESSAGES/sira.mo \
	        $(DESTDIR)$(PREFIX)/share/locale/$$l/LC_MESSAGES/ || exit 1; \
	done

# The national referral scenario, narrated (tests/e2e/demo.sh). DEMO_DIR=D
# keeps its files in D to look at afterwards.
demo: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) sh tests/e2e/demo.sh

# Screenshots of the web interface for docs/screens (and the README),
# taken by the browser test against real agents.
screens: deps
	@$(MAKE) --no-print-directory all unit-bins
	@O=$(O) BIN=$(BIN) sh tests/run.sh tests/e2e/test_web.sh
	mkdir -p docs/screens
	cp $(O)/screens/*.png docs/screens/

clean:
	rm -rf build bin

-include $(shell find $(O) $(FO) -name '*.d' 2>/dev/null)

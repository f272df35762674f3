# SPDX-License-Identifier: ISC
# ftp-proxy, tftp-proxy and pfhelper for Linux/nftables.
# GNU make, pkg-config; Linux only, no configure step.

PREFIX	?= /usr/local
DESTDIR	?=
sbindir	?= $(PREFIX)/sbin
libexecdir ?= $(PREFIX)/libexec
mandir	?= $(PREFIX)/share/man
examplesdir ?= $(PREFIX)/share/doc/ftp-proxy/examples
systemdunitdir ?= $(PREFIX)/lib/systemd/system

CC	?= cc
CFLAGS	?= -O2 -g
WARNINGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare \
	-Wno-unused-parameter
PKGS	= libevent libbsd-overlay libmnl libnftnl libseccomp libsystemd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
endif

# Where the front ends find pfhelper.  The installed ones know only this
# path; those in bin/ (tests, the demo) also honour PFHELPER in the
# environment (common/helper_path.c, built twice).
PFHELPER_PATH ?= $(sbindir)/pfhelper

ALL_CFLAGS = $(CFLAGS) $(WARNINGS) -Icommon $(PKG_CFLAGS) \
	-DPFHELPER_PATH='"$(PFHELPER_PATH)"'

O	= obj

COMMON_SRCS = $(wildcard common/*.c)
PFH_BACKEND = pfhelper/filter_nft.c pfhelper/ct_netlink.c
PFH_LIBSRCS = $(filter-out pfhelper/pfhelper.c $(PFH_BACKEND), \
	$(wildcard pfhelper/*.c))
FTP_LIBSRCS = $(filter-out ftp-proxy/ftp-proxy.c,$(wildcard ftp-proxy/*.c))
TFTP_LIBSRCS = $(filter-out tftp-proxy/tftp-proxy.c, \
	$(wildcard tftp-proxy/*.c))

objs	= $(patsubst %.c,$(O)/%.o,$(1))

LIBCOMMON = $(O)/libcommon.a
LIBPFH	= $(O)/libpfh.a
LIBFTP	= $(O)/libftp.a
LIBTFTP	= $(O)/libtftp.a

# Programs go to bin/: their names are taken by the source directories.
PROGS	= $(if $(wildcard pfhelper/pfhelper.c),bin/pfhelper) \
	$(if $(wildcard ftp-proxy/ftp-proxy.c),bin/ftp-proxy) \
	$(if $(wildcard tftp-proxy/tftp-proxy.c),bin/tftp-proxy)

# Unit tests: regress/<module>/<name>_test.c, one program each.
TESTS_COMMON = $(patsubst %.c,$(O)/%,$(wildcard regress/common/*_test.c))
TESTS_PFH = $(patsubst %.c,$(O)/%,$(wildcard regress/pfhelper/*_test.c))
TESTS_FTP = $(patsubst %.c,$(O)/%,$(wildcard regress/ftp-proxy/*_test.c))
TESTS_TFTP = $(patsubst %.c,$(O)/%,$(wildcard regress/tftp-proxy/*_test.c))
UNIT_TESTS = $(TESTS_COMMON) $(TESTS_PFH) $(TESTS_FTP) $(TESTS_TFTP)
# Test tools that drive the real backend or pfhelper: regress/tools/*.c.
TOOLS	= $(patsubst %.c,$(O)/%,$(wildcard regress/tools/*.c))
LIBPFHNFT = $(O)/libpfhnft.a
FILTERTOOL = $(O)/regress/tools/filtertool
# check(), checkf(), check_summary(): regress/check.h.
CHECK_OBJ = $(O)/regress/check.o
# pfhelper's unit tests: the fake backend, one peer served (serve_one.c).
FAKE_OBJS = $(call objs,$(wildcard regress/pfhelper/fake_*.c) \
	regress/pfhelper/serve_one.c)

.PHONY: all check check-build unit integration demo deps install \
	uninstall clean lint bench fuzz sanitize valgrind deb check-systemd \
	check-long \
	FORCE

# Files with the installed paths filled in: etc/NAME.in -> obj/etc/NAME.
GENERATED = $(patsubst etc/%.in,$(O)/etc/%,$(wildcard etc/*.in))
UNITS	= $(filter %.service,$(GENERATED)) $(wildcard etc/*.socket)
EXAMPLES = $(wildcard etc/*.conf etc/*.nft etc/*.default etc/*.sh) \
	$(filter-out %.service,$(GENERATED))

# The man pages name /usr/local/sbin; installed, they name $(sbindir).
MANPAGES = $(patsubst man/%,$(O)/man/%,$(wildcard man/*.8))

# What `make install' installs: pfhelper, and the front ends that take
# no path from the environment.
INST_PROGS = $(patsubst bin/%,$(O)/inst/%,$(filter-out bin/pfhelper,$(PROGS))) \
	$(filter bin/pfhelper,$(PROGS))

all: $(PROGS) $(INST_PROGS) $(GENERATED) $(MANPAGES)

# obj/paths changes whenever sbindir does, and what names it is rebuilt:
# `make PREFIX=/usr' after `make' is right, not half /usr/local.
$(O)/paths: FORCE
	@mkdir -p $(O)
	@echo '$(sbindir)' | cmp -s - $@ || echo '$(sbindir)' > $@
$(O)/common/pfh_client.o $(O)/common/helper_path.o: $(O)/paths
$(O)/tree/helper_path.o: common/helper_path.c $(HDRS) $(O)/paths
	@mkdir -p $(dir $@)
	@echo "  CC      $< (PFHELPER_ENV)"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DPFHELPER_ENV -c -o $@ $<

$(O)/etc/%: etc/%.in $(O)/paths
	@mkdir -p $(dir $@)
	@sed -e 's|@sbindir@|$(sbindir)|g' $< > $@
$(O)/man/%.8: man/%.8 $(O)/paths
	@mkdir -p $(dir $@)
	@sed -e 's|/usr/local/sbin|$(sbindir)|g' $< > $@

HDRS	= $(wildcard */*.h)

$(O)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -I$(dir $<) -c -o $@ $<

$(LIBCOMMON): $(call objs,$(COMMON_SRCS))
	@rm -f $@; ar rcs $@ $^
$(LIBPFH): $(call objs,$(PFH_LIBSRCS))
	@rm -f $@; ar rcs $@ $^
$(LIBPFHNFT): $(call objs,$(wildcard $(PFH_BACKEND)))
	@rm -f $@; ar rcs $@ $^
$(LIBFTP): $(call objs,$(FTP_LIBSRCS))
	@rm -f $@; ar rcs $@ $^
$(LIBTFTP): $(call objs,$(TFTP_LIBSRCS))
	@rm -f $@; ar rcs $@ $^

bin/pfhelper: $(call objs,pfhelper/pfhelper.c) $(LIBPFH) $(LIBPFHNFT) $(LIBCOMMON)
	@mkdir -p bin
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
# The front ends twice: bin/ with the tree's helper_path.o, obj/inst/
# (what `make install' installs) with libcommon's.
bin/ftp-proxy: $(O)/tree/helper_path.o
bin/tftp-proxy: $(O)/tree/helper_path.o
bin/ftp-proxy $(O)/inst/ftp-proxy: $(call objs,ftp-proxy/ftp-proxy.c) \
    $(LIBFTP) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBFTP) $(LIBCOMMON) \
	    $(PKG_LIBS)
bin/tftp-proxy $(O)/inst/tftp-proxy: $(call objs,tftp-proxy/tftp-proxy.c) \
    $(LIBTFTP) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBTFTP) $(LIBCOMMON) \
	    $(PKG_LIBS)

$(TESTS_COMMON): $(O)/regress/common/%: $(O)/regress/common/%.o \
    $(CHECK_OBJ) $(LIBCOMMON)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(TESTS_PFH): $(O)/regress/pfhelper/%: $(O)/regress/pfhelper/%.o \
    $(CHECK_OBJ) $(FAKE_OBJS) $(LIBPFH) $(LIBCOMMON)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(TESTS_FTP): $(O)/regress/ftp-proxy/%: $(O)/regress/ftp-proxy/%.o \
    $(CHECK_OBJ) $(LIBFTP) $(LIBCOMMON)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(TESTS_TFTP): $(O)/regress/tftp-proxy/%: $(O)/regress/tftp-proxy/%.o \
    $(CHECK_OBJ) $(LIBTFTP) $(LIBCOMMON)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(filter-out $(FILTERTOOL),$(TOOLS)): $(O)/regress/tools/%: \
    $(O)/regress/tools/%.o $(LIBPFH) $(LIBPFHNFT) $(LIBCOMMON)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
# filtertool drives the backend built with its test hooks
# (FILTER_TEST_HOOKS: filter_nft.sh's kernel-before-6.3 path), which
# bin/pfhelper never has.
$(O)/test/filter_nft.o: pfhelper/filter_nft.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (FILTER_TEST_HOOKS)"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Ipfhelper -DFILTER_TEST_HOOKS \
	    -c -o $@ $<
$(FILTERTOOL): $(O)/regress/tools/filtertool.o $(O)/test/filter_nft.o \
    $(call objs,pfhelper/ct_netlink.c) $(LIBPFH) $(LIBCOMMON)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The header dependency above is coarse on purpose: every object depends
# on every header of common/ and of its own directory.
$(O)/regress/%.o: CPPFLAGS += -Iregress -Ipfhelper -Iftp-proxy -Itftp-proxy

deps:
	sh scripts/deps.sh

check-build: all $(UNIT_TESTS) $(TOOLS)

# `make check`: install what is missing, build with -Werror, run every
# unit and integration suite, end with one `N passed, M failed` line.
# `make check SANITIZE=1`: the same suites under ASan+UBSan, built in a
# copy of the tree (scripts/sanitize.sh, also `make sanitize`).
# The host's state is taken before deps.sh and compared after the last
# suite (regress/host_state.sh).
check:
	mkdir -p $(O)
	sh regress/host_state.sh snap $(O)/host_state.before
	sh scripts/deps.sh
ifeq ($(SANITIZE),1)
	sh scripts/sanitize.sh
else
	$(MAKE) WERROR=1 check-build
	HOST_STATE=$(O)/host_state.before sh regress/run.sh $(UNIT_TESTS)
endif

# `make check-long`: the failover and load scenarios (regress/run.sh's
# LONG: ha.sh, broker_load.sh, tftp_broker.sh), kept out of `make check`
# for its time; CI runs both.
check-long:
	mkdir -p $(O)
	sh regress/host_state.sh snap $(O)/host_state.long
	sh scripts/deps.sh
	$(MAKE) WERROR=1 check-build
	HOST_STATE=$(O)/host_state.long sh regress/run.sh --long

# The whole suite under ASan+UBSan (a copy of the tree), and valgrind
# over the unit tests and the daemons of two integration suites.
sanitize: deps
	sh scripts/sanitize.sh

valgrind: deps
	$(MAKE) WERROR=1 check-build
	sh scripts/valgrind.sh

# libFuzzer targets (clang): `make fuzz` fuzzes each for FUZZ_SECONDS;
# `make check` replays their corpora as regression tests.
fuzz: deps
	sh scripts/fuzz.sh

# make -s print-VAR: the value of VAR, for scripts (scripts/fuzz.sh
# takes its source lists from here).
print-%:
	@echo '$($*)'

unit: check-build
	sh regress/run.sh --unit-only $(UNIT_TESTS)

lint:
	mandoc -Tlint -Wwarning man/*.8

demo: deps
	$(MAKE) all
	sh scripts/demo.sh

bench: deps
	$(MAKE) all
	sh scripts/bench.sh

# `make install' with an empty DESTDIR also creates the system users
# (scripts in the Debian package do it there); uninstall leaves them.
SYSUSERS = _ftp-proxy _tftp-proxy _pfhelper

install: all
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(examplesdir) $(DESTDIR)$(systemdunitdir)
	for p in $(INST_PROGS); do install -m 755 $$p $(DESTDIR)$(sbindir)/; done
	for m in $(MANPAGES); do \
		install -m 644 $$m $(DESTDIR)$(mandir)/man8/; done
	for e in $(EXAMPLES); do \
		install -m 644 $$e $(DESTDIR)$(examplesdir)/; done
	for u in $(UNITS); do \
		install -m 644 $$u $(DESTDIR)$(systemdunitdir)/; done
	@if [ -z "$(DESTDIR)" ]; then for u in $(SYSUSERS); do \
		getent passwd $$u >/dev/null || { echo "useradd $$u"; \
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin $$u; } \
		|| exit 1; done; fi

uninstall:
	for p in pfhelper ftp-proxy tftp-proxy; do \
		rm -f $(DESTDIR)$(sbindir)/$$p; done
	for m in $(notdir $(wildcard man/*.8)); do \
		rm -f $(DESTDIR)$(mandir)/man8/$$m; done
	for u in $(notdir $(UNITS)); do \
		rm -f $(DESTDIR)$(systemdunitdir)/$$u; done
	rm -rf $(DESTDIR)$(examplesdir)
	rmdir $(DESTDIR)$(PREFIX)/share/doc/ftp-proxy 2>/dev/null || true

# The Debian package (debian/): nft-ftp-proxy_VERSION_ARCH.deb in obj/deb/.
deb:
	sh scripts/deb.sh

# Debian 12 booted under systemd-nspawn; the package installed and
# tested in it (root, debootstrap; the root file system is kept in obj/).
check-systemd: deb
	sh regress/systemd/check.sh

clean:
	rm -rf $(O) bin

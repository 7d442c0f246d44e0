# SPDX-License-Identifier: MIT
# make install / uninstall / deb. Included by the Makefile; README "Install"
# documents the variables and the files.

# GNU directory variables; PREFIX is the usual spelling of prefix.
PREFIX        ?= /usr/local
prefix        ?= $(PREFIX)
exec_prefix   ?= $(prefix)
bindir        ?= $(exec_prefix)/bin
datarootdir   ?= $(prefix)/share
mandir        ?= $(datarootdir)/man
# The agent reads /etc/tlswatch/tlswatch.conf and keeps its state under
# /var/lib whatever the prefix: these do not follow it.
sysconfdir    ?= /etc
localstatedir ?= /var
unitdir       ?= $(prefix)/lib/systemd/system
bashcompdir   ?= $(datarootdir)/bash-completion/completions
INSTALL       ?= install
# Man pages to install, each into man<section> from its suffix (tlswatch.8).
MAN_PAGES     ?=
CONF_SRC      ?= $(DEFAULT_CONFIG)
CONF_DIR      := $(sysconfdir)/tlswatch
CONF_FILE     := $(CONF_DIR)/tlswatch.conf
STATE_DIR     := $(localstatedir)/lib/tlswatch
DIST          := $(BUILD)/dist

# Every installed file once, as source,destination,mode: install and
# uninstall both read this list, so they cannot disagree. (The config file
# and the two directories have their own rules: they may hold the admin's
# data.)
comma := ,
INSTALL_FILES = \
	$(BUILD)/tlswatch,$(bindir)/tlswatch,0755 \
	$(DIST)/tlswatch.service,$(unitdir)/tlswatch.service,0644 \
	scripts/tlswatch.logrotate,$(sysconfdir)/logrotate.d/tlswatch,0644 \
	$(DIST)/tlswatch.bash,$(bashcompdir)/tlswatch,0644 \
	$(foreach p,$(MAN_PAGES),$p,$(mandir)/man$(patsubst .%,%,$(suffix $p))/$(notdir $p),0644)
inst_field = $(word $2,$(subst $(comma), ,$1))
INSTALL_SOURCES = $(foreach f,$(INSTALL_FILES),$(call inst_field,$f,1)) $(CONF_SRC)

.PHONY: install uninstall deb FORCE

# The unit as installed: ExecStart names the binary where it was installed.
$(DIST)/tlswatch.service: scripts/tlswatch.service FORCE
	@mkdir -p $(@D)
	sed 's|/usr/local/bin/tlswatch|$(bindir)/tlswatch|g' $< > $@
	@grep -q '^ExecStart=$(bindir)/tlswatch ' $@ || \
	  { echo "$<: no 'ExecStart=/usr/local/bin/tlswatch ' line to rewrite" >&2; exit 1; }

# Completion generated from the binary's --help: it cannot drift.
$(DIST)/tlswatch.bash: $(BUILD)/tlswatch scripts/gen-bash-completion.sh
	@mkdir -p $(@D)
	scripts/gen-bash-completion.sh $(BUILD)/tlswatch > $@

# umask 022: directories created on the way are 0755 whatever the caller's.
# Second expansion: MAN_PAGES may be set after this file is included.
.SECONDEXPANSION:
install: $$(INSTALL_SOURCES)
	@set -e; umask 022; \
	$(foreach f,$(INSTALL_FILES),\
	  echo "install $(DESTDIR)$(call inst_field,$f,2)"; \
	  $(INSTALL) -D -m $(call inst_field,$f,3) $(call inst_field,$f,1) $(DESTDIR)$(call inst_field,$f,2);) \
	$(INSTALL) -d -m 0755 $(DESTDIR)$(CONF_DIR); \
	if [ -e $(DESTDIR)$(CONF_FILE) ]; then \
	  echo "keep    $(DESTDIR)$(CONF_FILE) (exists)"; \
	else \
	  echo "install $(DESTDIR)$(CONF_FILE)"; \
	  $(INSTALL) -m 0644 $(CONF_SRC) $(DESTDIR)$(CONF_FILE); \
	fi; \
	if [ ! -L $(DESTDIR)$(STATE_DIR) ]; then \
	  echo "install $(DESTDIR)$(STATE_DIR)/"; \
	  $(INSTALL) -d -m 0750 $(DESTDIR)$(STATE_DIR); \
	fi

# Removes what install created; keeps a config file that was changed and a
# state directory that is not empty (the inventory), and says so.
uninstall:
	@set -e; \
	$(foreach f,$(INSTALL_FILES),\
	  echo "remove  $(DESTDIR)$(call inst_field,$f,2)"; \
	  rm -f $(DESTDIR)$(call inst_field,$f,2);) \
	if [ -e $(DESTDIR)$(CONF_FILE) ] && ! cmp -s $(CONF_SRC) $(DESTDIR)$(CONF_FILE); then \
	  echo "keep    $(DESTDIR)$(CONF_FILE) (changed since install)"; \
	else \
	  echo "remove  $(DESTDIR)$(CONF_FILE)"; rm -f $(DESTDIR)$(CONF_FILE); \
	fi; \
	rmdir $(DESTDIR)$(CONF_DIR) 2>/dev/null || true; \
	if [ -e $(DESTDIR)$(STATE_DIR) ] && ! rmdir $(DESTDIR)$(STATE_DIR) 2>/dev/null; then \
	  echo "keep    $(DESTDIR)$(STATE_DIR) (holds the agent's state: remove it yourself)"; \
	else \
	  echo "remove  $(DESTDIR)$(STATE_DIR)/"; \
	fi

# The Debian package, built from a copy of the tree in $(DEB_DIR) (the
# tree stays clean), then checked by lintian.
DEB_DIR ?= $(BUILD)/deb
deb:
	scripts/build-deb.sh $(DEB_DIR)

#!/bin/sh
# Prints a Debian changelog entry for the package being built
# (/usr/share/doc/pbxwatch/changelog.gz): PKG_VERSION, the git revision it
# was built from, dated by SOURCE_DATE_EPOCH or the commit.
set -eu
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(LC_ALL=C date -u -R -d "@$epoch")
cat <<ENTRY
pbxwatch (${PKG_VERSION}) unstable; urgency=medium

  * Built from revision $rev.

 -- pbxwatch maintainers <maintainers@pbxwatch.invalid>  $date
ENTRY

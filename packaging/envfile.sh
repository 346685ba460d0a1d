#!/bin/sh
# Prints the options file a unit reads (its first EnvironmentFile=, without
# the "-" that makes it optional), or /etc/default/pbxwatch when it names
# none: the package installs packaging/default there.
# Usage: packaging/envfile.sh UNIT
set -eu
f=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$1" | head -n 1)
printf '%s\n' "${f:-/etc/default/pbxwatch}"

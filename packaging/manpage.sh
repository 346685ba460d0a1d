#!/bin/sh
# Prints pbxwatch(1), made from the binary's own --help-man (kingpin), with a
# one-line .TH header (kingpin puts the multi-line version text there) and a
# whatis description on the NAME line.
# Usage: packaging/manpage.sh PATH/TO/pbxwatch VERSION
set -eu
"$1" --help-man | awk -v ver="$2" '
	!named && /^\.SH "NAME"/ {
		printf ".TH PBXWATCH 1 \"\" \"pbxwatch %s\" \"pbxwatch manual\"\n", ver
		named = 1
	}
	named { print }
	named == 1 && /^\.SH "NAME"/ { getline; print "pbxwatch \\- monitoring agent for FreePBX hosts"; named = 2 }
'

#!/bin/sh
# Prints the license of every Go module linked into the shipped binaries
# (the agent and the plugins) and of Go itself, for
# /usr/share/doc/pbxwatch/third-party-notices.gz: the binaries are static, so
# they carry that code, and its licenses (Apache-2.0, MPL-2.0, BSD, MIT)
# ask for their notices to travel with it.
# Usage: packaging/notices.sh PACKAGE...   (e.g. ./agent ./plugins/...)
set -eu
GO=${GO:-go}
printf 'Third-party software in the pbxwatch binaries, with its licenses.\n'
printf '\n==== Go (the standard library and runtime) %s ====\n\n' "$($GO env GOVERSION)"
cat "$($GO env GOROOT)/LICENSE"
CGO_ENABLED=0 $GO list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' "$@" |
	sort -u |
	while read -r path version dir; do
		[ -n "$path" ] || continue
		# pbxwatch's own modules (the SDK) are not third-party software.
		case $path in github.com/pbxwatch/pbxwatch/*) continue ;; esac
		lic=$(find "$dir" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'LICENCE*' -o -iname 'COPYING*' \) | sort | head -n 1)
		if [ -z "$lic" ]; then
			echo "notices.sh: no license file in $path $version ($dir)" >&2
			exit 1
		fi
		printf '\n==== %s %s ====\n\n' "$path" "$version"
		cat "$lic"
		# Apache-2.0 asks for a NOTICE file to travel with the code too.
		find "$dir" -maxdepth 1 -type f -iname 'NOTICE*' | sort | while read -r notice; do
			printf '\n---- %s ----\n\n' "$(basename "$notice")"
			cat "$notice"
		done
	done
# Code vendored into the agent binary that is not a Go module (the fleet
# page's chart library, go:embed): each directory has its VENDOR record
# (name, version, where it came from) and its LICENSE.
root=$(cd "$(dirname "$0")/.." && pwd)
for vendor in "$root"/agent/internal/web/ui/static/vendor/*/VENDOR; do
	[ -f "$vendor" ] || continue
	dir=$(dirname "$vendor")
	name=$(sed -n 's/^name: //p' "$vendor")
	version=$(sed -n 's/^version: //p' "$vendor")
	if [ ! -f "$dir/LICENSE" ]; then
		echo "notices.sh: no LICENSE beside $vendor" >&2
		exit 1
	fi
	printf '\n==== %s %s (vendored into the agent: %s) ====\n\n' "$name" "$version" "${dir#"$root"/}"
	cat "$dir/LICENSE"
done

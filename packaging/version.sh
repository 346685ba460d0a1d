#!/bin/sh
# Prints the package version for `make package`: a version dpkg and rpm both
# accept and order correctly, derived from `git describe`.
#   v1.2.0                 -> 1.2.0
#   v1.2.0-rc1             -> 1.2.0~rc1
#   v1.2.0-3-gabc1234      -> 1.2.0+git20261129.3.abc1234   (after 1.2.0, before 1.2.1)
#   abc1234 (no tag yet)   -> 0.0.0~git20261129.abc1234     (before any release)
#   ...-dirty              -> ....dirty
# VERSION=1.2.3 (or v1.2.3) overrides it, e.g. to build a test upgrade.
set -eu

check() {
	case $1 in
	[0-9]*) ;;
	*) echo "version.sh: version \"$1\" must start with a digit" >&2; exit 1 ;;
	esac
	# dpkg and rpm both accept these characters; '-' would split off a
	# release, '_' and ':' mean other things to one or the other.
	if printf '%s' "$1" | LC_ALL=C grep -q '[^0-9A-Za-z.+~]'; then
		echo "version.sh: version \"$1\" may only hold letters, digits and . + ~" >&2
		exit 1
	fi
	printf '%s\n' "$1"
}

# prerelease turns a tag's "1.0.0-rc1" into "1.0.0~rc1", which sorts before
# 1.0.0 in dpkg and rpm alike.
prerelease() { printf '%s' "$1" | tr - '~'; }

if [ -n "${VERSION:-}" ]; then
	check "${VERSION#v}"
	exit 0
fi

desc=$(git describe --tags --always --dirty 2>/dev/null || true)
date=$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date -u +%Y%m%d)
dirty=""
case $desc in
*-dirty) dirty=.dirty desc=${desc%-dirty} ;;
esac

case $desc in
"")
	check "0.0.0~git$date$dirty" ;;
v[0-9]*-[0-9]*-g[0-9a-f]* | [0-9]*-[0-9]*-g[0-9a-f]*)
	tag=${desc%-*-g*} rest=${desc#"$tag"-} count=${rest%%-*} sha=${rest#*-g}
	check "$(prerelease "${tag#v}")+git$date.$count.$sha$dirty" ;;
v[0-9]* | [0-9]*.*)
	check "$(prerelease "${desc#v}")$dirty" ;;
*)
	check "0.0.0~git$date.$desc$dirty" ;;
esac

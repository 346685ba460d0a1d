#!/bin/sh
# accesslog-acl.sh: let the pbxwatch service user read the web server's
# logs where no group can: on Sangoma Linux 7 (FreePBX 16) /var/log/httpd
# is root:root 0700. An ACL names the one user; the directory stays closed
# to everyone else. (On Debian, FreePBX 17, use group adm instead: the
# pbxwatch package adds its user to it.)
#
#   accesslog-acl.sh [--remove] [USER [DIR]]    defaults: pbxwatch /var/log/httpd
#
# It grants USER read on DIR's current files, search (x) on DIR, and a
# default ACL on DIR, so files created later (Apache at start, logrotate's
# create) inherit read. Running it again changes nothing.
set -eu

remove=
if [ "${1:-}" = "--remove" ]; then
	remove=1
	shift
fi
user=${1:-pbxwatch}
dir=${2:-/var/log/httpd}

if ! command -v setfacl >/dev/null 2>&1; then
	echo "accesslog-acl.sh: setfacl not found: install the acl package (yum install acl / apt install acl)" >&2
	exit 1
fi
if ! id "$user" >/dev/null 2>&1; then
	echo "accesslog-acl.sh: no user $user" >&2
	exit 1
fi
if [ ! -d "$dir" ]; then
	echo "accesslog-acl.sh: $dir is not a directory" >&2
	exit 1
fi

if [ -n "$remove" ]; then
	setfacl -x "u:$user" "$dir"
	setfacl -d -x "u:$user" "$dir" 2>/dev/null || true
	for f in "$dir"/*; do
		[ -f "$f" ] && setfacl -x "u:$user" "$f"
	done
	echo "removed $user's ACL entries from $dir and its files"
	exit 0
fi

setfacl -m "u:$user:rx" "$dir"
setfacl -d -m "u:$user:r" "$dir"
for f in "$dir"/*; do
	# Regular files only: never follow a link out of the directory.
	if [ -f "$f" ] && [ ! -L "$f" ]; then
		setfacl -m "u:$user:r" "$f"
	fi
done
echo "$user may now read $dir and the files created in it (check: getfacl $dir)"

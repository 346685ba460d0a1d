# Shared by the deb postinst and the rpm %post: `make package` puts it in
# place of their SETUP line. POSIX sh; works without a running systemd (a container,
# a chroot) and on systemd 219 (FreePBX 16).

# pbxwatch_create_user makes the pbxwatch system user and group
# (systemd-sysusers where present, useradd otherwise) and adds it to the
# groups whose logs it reads: asterisk (FreePBX's log), and on Debian adm
# (Apache's logs), each only when the group exists.
pbxwatch_create_user() {
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers /usr/lib/sysusers.d/pbxwatch.conf >/dev/null 2>&1 || true
	fi
	if ! getent passwd pbxwatch >/dev/null; then
		nologin=/usr/sbin/nologin
		[ -x "$nologin" ] || nologin=/sbin/nologin
		useradd --system --user-group --home-dir /var/lib/pbxwatch --no-create-home \
			--shell "$nologin" --comment "pbxwatch monitoring agent" pbxwatch
	fi
	for group in "$@"; do
		if getent group "$group" >/dev/null &&
			! id -Gn pbxwatch | tr ' ' '\n' | grep -qx "$group"; then
			usermod -a -G "$group" pbxwatch
		fi
	done
}

# pbxwatch_create_dirs makes the state and credentials directories with the
# owners tmpfiles.d/pbxwatch.conf names, also where systemd-tmpfiles is
# missing.
pbxwatch_create_dirs() {
	if command -v systemd-tmpfiles >/dev/null 2>&1; then
		systemd-tmpfiles --create /usr/lib/tmpfiles.d/pbxwatch.conf >/dev/null 2>&1 || true
	fi
	[ -d /var/lib/pbxwatch ] || install -d -m 0750 -o pbxwatch -g pbxwatch /var/lib/pbxwatch
	[ -d /etc/pbxwatch/credentials ] || install -d -m 0750 -o root -g pbxwatch /etc/pbxwatch/credentials
}

# pbxwatch_first_install_message tells the operator what is left to do.
pbxwatch_first_install_message() {
	cat <<'MSG'
pbxwatch is installed and enabled, but NOT started: fill in the config first.
  1. Edit /etc/pbxwatch/pbxwatch.yaml; put each secret in its own file in
     /etc/pbxwatch/credentials/ (root:pbxwatch, mode 0640).
  2. sudo pbxwatch validate
     sudo pbxwatch check freepbx_log
  3. sudo systemctl start pbxwatch
Step by step: /usr/share/doc/pbxwatch/install.md
MSG
}

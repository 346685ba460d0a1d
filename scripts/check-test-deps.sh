#!/usr/bin/env bash
# Lists the programs `make test` needs that are not installed, and fails,
# so that a missing package is never mistaken for a passing test. The
# tests apply the same rule one program at a time (internal/testutil: Tool,
# Unavailable); TestCheckTestDepsListsEveryTool keeps the two lists equal.
# PBXWATCH_SKIP_INTEGRATION=1 turns the failure into a warning (the
# integration tests then skip, saying so), except under CI=true.
set -u
need=(
  "prometheus:prometheus"
  "promtool:prometheus"
  "victoria-metrics:victoria-metrics"
  "prometheus-alertmanager:prometheus-alertmanager"
  "amtool:prometheus-alertmanager"
  "logrotate:logrotate"
  "make:make"
  "dpkg-deb:dpkg"
  "/usr/lib/nagios/plugins/check_dummy:monitoring-plugins-basic"
  "/usr/sbin/mariadbd:mariadb-server"
  "mariadb-install-db:mariadb-server"
  "/usr/sbin/apache2:apache2"
  "chromium:chromium"
  "/usr/bin/python3:python3"
  "debootstrap:debootstrap"
  "systemd-nspawn:systemd-container"
  "nsenter:util-linux"
  "systemd-analyze:systemd"
  "lintian:lintian"
  "rpm:rpm"
  "rpm2cpio:rpm"
)
missing=()
for item in "${need[@]}"; do
  prog=${item%%:*} pkg=${item#*:}
  if [[ $prog == /* ]]; then [[ -x $prog ]] && continue; else command -v "$prog" >/dev/null && continue; fi
  missing+=("$prog (Debian package $pkg)")
done
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || missing+=("python3 grpc module (Debian packages python3-grpcio python3-protobuf)")
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=("python3 aiosmtpd module (Debian package python3-aiosmtpd)")
if ((${#missing[@]})); then
  echo "make test: these programs are missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  echo "Install them: sudo apt-get install prometheus victoria-metrics prometheus-alertmanager logrotate monitoring-plugins-basic mariadb-server apache2 chromium python3-grpcio python3-protobuf python3-aiosmtpd debootstrap systemd-container lintian rpm" >&2
  if [[ -n ${PBXWATCH_SKIP_INTEGRATION:-} && ${CI:-} != true ]]; then
    echo "PBXWATCH_SKIP_INTEGRATION is set: the tests that need them will be SKIPPED." >&2
    exit 0
  fi
  exit 1
fi

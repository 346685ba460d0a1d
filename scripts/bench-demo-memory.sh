#!/bin/sh
# Memory of the demo's seven checks (configs/demo.yaml on the simulators,
# as `make demo` runs them): PSS of the agent and of each plugin process,
# measured as scripts/bench-scale.sh measures (Pss from
# /proc/PID/smaps_rollup), split into what the process's own binary maps
# (code r-xp, read-only data r--p: shared only between processes of the
# same binary) and anonymous memory (Go heap, stacks, runtime). Issue 22's
# target: 50 MiB in total. Sampled twice: SETTLE seconds after start (30),
# as the figures were first taken, and again at STEADY seconds (150), after
# the runtime's first forced collections, when the heaps have found their
# level. WORKDIR: a temporary directory, removed after. Needs the demo's
# ports (9851, 9861-9863) free.
set -eu
cd "$(dirname "$0")/.."
work=${WORKDIR:-$(mktemp -d)}
demo_pid=
cleanup() {
	[ -z "$demo_pid" ] || kill "$demo_pid" 2>/dev/null || true
	[ -n "${WORKDIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM
# One multi-call binary, the plugins links to it, as `make build` lays out
# bin/ and the packages /usr/libexec/pbxwatch.
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/pbxwatch" ./agent
for p in whmcs freepbx accesslog logtail nagios; do
	ln -sfn pbxwatch "$work/pbxwatch-plugin-$p"
done
go build -o "$work/pbxwatch-demo" ./tools/pbxwatch-demo
# The demo config with its data under $work, so a running `make demo`'s
# demo-data/ is left alone, and its plugins from $work, not from a bin/
# a `make build` left in the checkout.
sed -e "s#demo-data/#$work/data/#g" -e "s#plugin_dir: bin\$#plugin_dir: $work#" configs/demo.yaml >"$work/demo.yaml"
"$work/pbxwatch-demo" --bin-dir="$work" --config="$work/demo.yaml" --data-dir="$work/data" >"$work/demo.out" 2>&1 &
demo_pid=$!
settle=${SETTLE:-30}
steady=${STEADY:-150}
sleep "$settle"

# pss_of PID: "pss binary_text binary_rodata anon" in KiB.
pss_of() {
	awk -v bin="$(readlink "/proc/$1/exe")" '
		/^[0-9a-f]+-[0-9a-f]+ / { mine = ($6 == bin); perm = $2 }
		/^Pss:/ { if (mine && perm == "r-xp") text += $2; else if (mine && perm == "r--p") ro += $2 }
		/^Anonymous:/ { anon += $2 }
		END { printf "%d %d %d", text, ro, anon }' "/proc/$1/smaps"
	awk '/^Pss:/ { printf " %d\n", $2 }' "/proc/$1/smaps_rollup"
}

sample() {
	at=$1
	printf '%-28s %9s %9s %9s %9s %8s\n' process 'PSS MiB' 'code' 'rodata' 'anon' threads
	total=0
	for pid in $(pgrep -f "^$work/pbxwatch( run|-plugin-)"); do
		# Named as started (argv[0]): every process maps the same file.
		name=$(basename "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1)")
		set -- $(pss_of "$pid")
		threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
		echo "$name $* $threads" |
			awk '{ printf "%-28s %9.1f %9.1f %9.1f %9.1f %8d\n", $1, $5/1024, $2/1024, $3/1024, $4/1024, $6 }'
		total=$((total + $4))
	done
	awk -v t="$total" -v s="$at" 'BEGIN { printf "total PSS (agent and plugins) at %d s: %.1f MiB (target <= 50 MiB)\n", s, t/1024 }'
}

sample "$settle"
if [ "$steady" -gt "$settle" ]; then
	sleep $((steady - settle))
	echo
	sample "$steady"
fi

#!/usr/bin/env bash
# Measures the "CLI and agent" figures of BENCHMARKS.md on this machine, as
# root, and prints them with the load average beside each:
#
#   1. one hyperfine run, side by side: `switchyard run --rm BUSYBOX true`
#      (on the default network) and the same with `--network none`,
#      bare `runc run` of an equivalent prepared bundle, `docker run --rm
#      --network none busybox true`, and `switchyard run --rm` of the hello
#      wasm module (warm);
#   2. `up` of a 20-replica deployment (busybox sleep) until `ps --format
#      json` shows 20 running;
#   3. the agent's RSS (VmRSS) idle and with 100 workloads (50 busybox
#      sleep + 50 wasm sleep), with the wasm host's and a shim's RSS beside.
#
# Usage, from anywhere in the repository:
#
#   bash test/e2e/figures.sh [RUNS]     # RUNS per hyperfine command, default 30
#
# Needs runc, busybox-static, docker-registry and hyperfine (Debian), and for
# the docker column dockerd and docker (Debian ships both in one package); without docker
# the comparison runs without it. Everything it starts is stopped and
# everything it makes is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
runs=${1:-30}

work=$(mktemp -d /tmp/sy-figures.XXXXXX)
root=$work/root
sock=$work/sy.sock
export SWITCHYARD_SOCKET=$sock
sy=$work/switchyard
daemon_pid=""
registry_pid=""
dockerd_pid=""

cleanup() {
	set +e
	if [ -n "$daemon_pid" ]; then
		for n in $("$sy" ps -a --format json | python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin)))'); do
			"$sy" rm -f "$n" >/dev/null
		done
		"$sy" down figures >/dev/null 2>&1
		kill "$daemon_pid"; wait "$daemon_pid"
	fi
	# The wasm host outlives the agent by design: end this root's one, by pid.
	for p in $(pgrep -f -- "wasm-host --root $root/"); do kill "$p"; done
	if [ -n "$dockerd_pid" ]; then
		docker rm -f $(docker ps -aq) >/dev/null 2>&1
		kill "$dockerd_pid"; wait "$dockerd_pid"
	fi
	[ -n "$registry_pid" ] && { kill "$registry_pid"; wait "$registry_pid"; }
	# Whatever is still mounted below the work directory (docker's or ours).
	grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$work"
}
trap cleanup EXIT

# load, wait_for and fig_serve_registry are the figure scripts' own.
fig_name=figures
# shellcheck source=scripts/lib/figure.sh
. scripts/lib/figure.sh
# op_means prints the mean duration of each runtime operation the agent
# has timed (switchyard_runtime_operation_duration_seconds).
op_means() {
	curl -fsS --unix-socket "$sock" http://agent/metrics |
		awk '/^switchyard_runtime_operation_duration_seconds_(sum|count)\{/ {
			split($1, a, "{"); key = a[2]; sub(/\}$/, "", key)
			if (a[1] ~ /_sum$/) sum[key] = $2; else cnt[key] = $2
		}
		END { for (k in cnt) if (cnt[k] > 0) printf "  %-45s %8.1f ms x %d\n", k, 1000 * sum[k] / cnt[k], cnt[k] }' | sort
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }

echo "== build"
bash scripts/build "$(dirname "$sy")"

echo "== registry (Debian docker-registry) on 127.0.0.1"
fig_serve_registry "$work"
registry_pid=$fig_registry_pid
port=${fig_registry_host#127.0.0.1:}
busybox=127.0.0.1:$port/demo/busybox:latest
hello=127.0.0.1:$port/demo/hello-wasm:latest
sleeper=127.0.0.1:$port/demo/sleep-wasm:latest

echo "== agent"
"$sy" daemon --root "$root" --socket "$sock" --log-level warn >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for "the agent" 30 "$sy" ps

# build-images pushes one Go program as demo/hello-wasm; a sleeping module
# for the RSS figure is pushed there first, pulled, and kept under its own
# name before the real hello module replaces it.
mkdir -p "$work/sleep-wasm"
cat >"$work/sleep-wasm/main.go" <<'GO'
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("sleeping")
	time.Sleep(time.Hour)
}
GO
printf 'module sleepwasm\n\ngo 1.24\n' >"$work/sleep-wasm/go.mod"
go run ./examples/build-images --registry "127.0.0.1:$port" --only hello-wasm --hello-wasm "$work/sleep-wasm"
"$sy" pull "$hello" >/dev/null
"$sy" tag "$hello" "$sleeper"
"$sy" rmi "$hello" >/dev/null
go run ./examples/build-images --registry "127.0.0.1:$port" --only busybox,hello-wasm
"$sy" pull "$busybox" >/dev/null
"$sy" pull "$hello" >/dev/null
"$sy" run --rm "$hello" >/dev/null # the wasm host is up and the module compiled

echo "== runc bundle: the busybox image's files, runc's default spec running true"
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/etc" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$bundle/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$bundle/rootfs/etc/group"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["root"]["readonly"] = False
json.dump(c, open(p, "w"), indent=1)
PY
runc run --bundle "$bundle" "sy-fig-check-$RANDOM"

docker_cmd=()
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
	echo "== dockerd on a private root and socket"
	export DOCKER_HOST=unix://$work/docker.sock
	dockerd --iptables=false --ip6tables=false --bridge=none \
		--data-root "$work/docker" --exec-root "$work/dx" --pidfile "$work/docker.pid" \
		-H "$DOCKER_HOST" >"$work/dockerd.log" 2>&1 &
	dockerd_pid=$!
	wait_for "dockerd" 60 docker version
	docker pull -q "$busybox" >/dev/null
	docker tag "$busybox" busybox
	docker run --rm --network none busybox true
	docker_cmd=(-n "docker run --rm --network none busybox true" "docker run --rm --network none busybox true")
else
	echo "(no dockerd: the docker column is left out)"
fi

echo
echo "== 1. start-to-exit of one container, side by side (load before: $(load))"
hyperfine --shell bash --warmup 3 --runs "$runs" --export-markdown "$work/run.md" \
	-n "switchyard run --rm busybox true" "$sy run --rm $busybox true" \
	-n "switchyard run --rm --network none busybox true" "$sy run --rm --network none $busybox true" \
	-n "runc run (prepared bundle) true" "runc run --bundle $bundle sy-fig-\$RANDOM\$RANDOM" \
	"${docker_cmd[@]}" \
	-n "switchyard run --rm hello-wasm" "$sy run --rm $hello"
echo "load after: $(load)"
cat "$work/run.md"
echo "where the agent's time went (mean per call, from its /metrics, all calls so far):"
op_means

echo
echo "== 2. up of 20 replicas until ps shows 20 running (load before: $(load))"
cat >"$work/up20.yaml" <<YAML
version: v1
deployment: figures
services:
  sleeper:
    rtype: service
    image:
      name: $busybox
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['trap "exit 0" TERM; sleep 3600 & wait']
    scale:
      mode: fixed
      replicas: 20
YAML
running() { "$sy" ps --format json | grep -c '"state": "running"' || true; }
t0=$(date +%s.%N)
"$sy" up -f "$work/up20.yaml" >/dev/null
until [ "$(running)" -ge 20 ]; do sleep 0.02; done
t1=$(date +%s.%N)
echo "up 20 replicas to all running: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f s", b - a}') (load after: $(load))"
echo "mean per call after the up (cumulative):"
op_means
"$sy" down figures >/dev/null

echo
echo "== 3. agent RSS"
"$sy" ps >/dev/null
echo "agent idle: $(mib "$(rss_kib "$daemon_pid")") (load: $(load))"
for i in $(seq 0 49); do
	"$sy" run -d --name "bb$i" "$busybox" sh -c 'trap "exit 0" TERM; sleep 3600 & wait' >/dev/null
	"$sy" run -d --pull never --platform wasip1/wasm --name "wz$i" "$sleeper" >/dev/null
done
n=$("$sy" ps --format json | grep -c '"state": "running"' || true)
host_pid=$(pgrep -f -- "wasm-host --root $root/" | head -1)
shim_pid=$(pgrep -f -- "shim .*--dir $root/" | head -1)
echo "agent with 100 workloads ($n running): $(mib "$(rss_kib "$daemon_pid")") (load: $(load))"
echo "  beside it: wasm host $(mib "$(rss_kib "$host_pid")"), one shim $(mib "$(rss_kib "$shim_pid")")"

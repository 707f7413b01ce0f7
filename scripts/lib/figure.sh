# shellcheck shell=bash
# What the figure scripts share: a work directory, switchyard built into it,
# a registry on a free loopback port holding the demo busybox image, an agent
# of its own (private root, socket, bridge and subnet), and the anchors
# beside it: Debian's dockerd and podman, each in a network namespace of its
# own (joined with nsenter, the network namespace alone) so that their
# bridges and iptables rules (dockerd sets the FORWARD policy to DROP) never
# touch the host's. Sourced, not run:
#
#   . scripts/lib/figure.sh
#   fig_init NAME BRIDGE SUBNET   # work dir, builds, cleanup on EXIT
#   fig_registry                  # sets fig_image (the busybox image)
#   fig_agent [DAEMON ARGS...]    # sets sy (the CLI) and SWITCHYARD_SOCKET
#   fig_dockerd                   # sets DD (-H for docker) or leaves it empty
#   fig_podman                    # sets pm (the podman command) or leaves it empty
#   fig_anchor_bundle DIR ARGS... # a bare runc bundle of the agent's own config
#   fig_quiet                     # sync, and FIG_QUIET (361) s for deleted inodes to age out
#
# Everything started is stopped, and everything made is removed, when the
# caller's shell exits: containers, daemons, the network namespace, the
# bridge and its iptables rules, the mounts under the work directory and the
# work directory itself. A caller with more to clean adds it to
# fig_cleanups (commands run first). As root. FIG_BIN=DIR takes the three
# binaries from DIR (bash scripts/build DIR) instead of building them: to
# compare two builds, run after run.

# fig_init NAME BRIDGE SUBNET: the work directory and the builds.
fig_init() {
	fig_name=$1 fig_bridge=$2 fig_subnet=$3
	bash scripts/install-deps
	export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
	work=$(mktemp -d "/tmp/sy-$fig_name.XXXXXX")
	root=$work/root
	sy=$work/switchyard
	export SWITCHYARD_SOCKET=$work/sy.sock
	fig_ns=sy$fig_name-$$
	fig_cleanups=()
	fig_daemon_pid="" fig_registry_pid="" fig_dockerd_pid="" DD="" pm=""
	trap fig_cleanup EXIT
	if [ -n "${FIG_BIN:-}" ]; then
		# Binaries built beforehand (to compare two builds, run after run).
		cp "$FIG_BIN"/switchyard "$FIG_BIN"/switchyard-daemon "$FIG_BIN"/switchyard-shim "$work/"
	else
		bash scripts/build "$work"
	fi
}

fig_cleanup() {
	set +e
	local c
	for c in "${fig_cleanups[@]}"; do eval "$c"; done
	if [ -n "$fig_dockerd_pid" ]; then
		# shellcheck disable=SC2046 # one word a container id
		docker -H "$DD" rm -f $(docker -H "$DD" ps -aq) >/dev/null 2>&1
		kill "$fig_dockerd_pid"; wait "$fig_dockerd_pid"
	fi
	if [ -n "$pm" ]; then
		$pm rm -af >/dev/null 2>&1
		grep -o " $work/podman[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	fi
	ip netns delete "$fig_ns" 2>/dev/null
	if [ -n "$fig_daemon_pid" ]; then
		# shellcheck disable=SC2046 # one word a container name
		"$sy" rm -f $("$sy" ps -aq 2>/dev/null) >/dev/null 2>&1
		kill "$fig_daemon_pid"; wait "$fig_daemon_pid"
	fi
	for p in $(pgrep -f -- "wasm-host --root $root/"); do kill "$p"; done
	[ -n "$fig_registry_pid" ] && { kill "$fig_registry_pid"; wait "$fig_registry_pid"; }
	grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	"$work/switchyard-daemon" remove-networks --root "$root" --bridge "$fig_bridge" --bridge-subnet "$fig_subnet"
	rm -rf "$work"
}

# wait_for DESC SECS CMD...: polls CMD until it succeeds, or fails after SECS.
wait_for() {
	local desc=$1 secs=$2; shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then echo "$fig_name: timed out waiting for $desc" >&2; return 1; fi
		sleep 0.05
	done
}

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# fig_free_port prints a free TCP port on 127.0.0.1.
fig_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# fig_serve_registry DIR starts Debian's docker-registry on a free loopback
# port, storing under DIR, and waits for it; fig_registry_pid and
# fig_registry_host (127.0.0.1:PORT) say where. Stopping it is the caller's
# (fig_cleanup does it for fig_registry's).
fig_serve_registry() {
	local dir=$1 port
	port=$(fig_free_port)
	cat >"$dir/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $dir/registry}}
http: {addr: 127.0.0.1:$port}
YAML
	docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
	fig_registry_pid=$!
	fig_registry_host=127.0.0.1:$port
	wait_for "the registry" 20 curl -fsS "http://$fig_registry_host/v2/"
}

# fig_registry serves a registry (fig_serve_registry) and pushes the demo
# busybox image to it; fig_image names it.
fig_registry() {
	fig_serve_registry "$work"
	go run ./examples/build-images --registry "$fig_registry_host" --only busybox >/dev/null
	fig_image=$fig_registry_host/demo/busybox:latest
}

# fig_agent [ARGS...]: the agent on its own root, socket, bridge and subnet,
# with the busybox image pulled and run once.
fig_agent() {
	"$sy" daemon --root "$root" --socket "$SWITCHYARD_SOCKET" --log-level warn \
		--bridge "$fig_bridge" --bridge-subnet "$fig_subnet" "$@" >"$work/daemon.log" 2>&1 &
	fig_daemon_pid=$!
	wait_for "the agent" 30 "$sy" ps
	"$sy" pull "$fig_image" >/dev/null
	"$sy" run --rm "$fig_image" true
}

fig_netns() {
	[ -e "/run/netns/$fig_ns" ] && return
	ip netns add "$fig_ns"
	ip netns exec "$fig_ns" ip link set lo up
}

fig_tarball() {
	[ -f "$work/busybox.tar" ] || go run ./examples/build-images --only busybox --tarball "$work/busybox.tar" >/dev/null
}

# fig_dockerd starts Debian's dockerd in a network namespace of its own with
# the busybox image loaded as "busybox"; DD is its -H address. Without
# dockerd, DD stays empty.
fig_dockerd() {
	if ! command -v dockerd >/dev/null; then
		echo "(dockerd is not installed: apt-get install docker.io; its rows are left out)"
		return
	fi
	fig_netns
	local host="unix://$work/docker.sock"
	nsenter --net=/run/netns/"$fig_ns" -- dockerd --data-root "$work/docker" --exec-root "$work/dx" \
		--pidfile "$work/docker.pid" -H "$host" >"$work/dockerd.log" 2>&1 &
	fig_dockerd_pid=$!
	wait_for "dockerd" 60 docker -H "$host" version
	# dockerd's namespace cannot reach the host's registry: the image goes
	# over as a tarball.
	fig_tarball
	docker -H "$host" load -q -i "$work/busybox.tar" >/dev/null
	docker -H "$host" tag demo/busybox:latest busybox
	docker -H "$host" run --rm busybox true
	DD=$host
	echo "dockerd: $(docker -H "$DD" version --format '{{.Server.Version}}')"
}

# fig_podman makes pm the podman command of a store of its own, in the
# network namespace of its own, with the busybox image as "busybox"; podman
# gets rlimits within the host's hard ones (fig_podman_limits), since root
# here cannot raise them. Without a podman that runs here, pm stays empty.
fig_podman() {
	if ! command -v podman >/dev/null; then
		echo "(podman is not installed: apt-get install podman; its rows are left out)"
		return
	fi
	fig_netns
	fig_tarball
	local cmd="nsenter --net=/run/netns/$fig_ns -- podman --root $work/podman --runroot $work/podman-run --cgroup-manager cgroupfs --events-backend file"
	fig_podman_limits="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
	if $cmd load -q -i "$work/busybox.tar" >/dev/null && $cmd tag demo/busybox:latest busybox &&
		$cmd run --rm $fig_podman_limits busybox true; then
		pm=$cmd
	else
		echo "(podman cannot run here: its rows are left out)"
	fi
}

# fig_anchor_bundle DIR ARGS...: a bundle in DIR for a bare `runc run` of
# the agent's own config.json of a container of the busybox image with
# --network none (Docker's seccomp profile, capabilities, masked paths,
# namespaces) running ARGS, over a copy of its root filesystem, with no
# cgroup path (each run a fresh cgroup, as a bare `runc run` of a prepared
# bundle gets) — the anchor of "switchyard's own layers". Needs fig_agent.
fig_anchor_bundle() {
	local bundle=$1 link created; shift
	"$sy" create --name anchor --network none "$fig_image" true >/dev/null
	link=$(find "$root" -path '*/names/*' -name '*anchor*' -print -quit)
	created=$(readlink -f "$link")/bundle
	mkdir -p "$bundle/rootfs"
	cp -a "$created/rootfs/." "$bundle/rootfs/"
	python3 - "$created/config.json" "$bundle/config.json" "$root" "$@" <<'PY'
import json, os, shutil, sys
cfg = json.load(open(sys.argv[1]))
cfg["root"] = {"path": "rootfs"}
cfg["linux"].pop("cgroupsPath", None)
cfg["process"]["args"] = sys.argv[4:]
cfg["process"]["terminal"] = False
# Files the agent bind-mounts from the container's state directory (hosts,
# resolv.conf, ...) go with the bundle: the container is removed below.
files = os.path.join(os.path.dirname(sys.argv[2]), "files")
os.makedirs(files, exist_ok=True)
for i, m in enumerate(cfg.get("mounts", [])):
    src = m.get("source", "")
    if src.startswith(sys.argv[3]) and os.path.isfile(src):
        dst = os.path.join(files, f"{i}-{os.path.basename(src)}")
        shutil.copy(src, dst)
        m["source"] = dst
json.dump(cfg, open(sys.argv[2], "w"))
PY
	"$sy" rm anchor >/dev/null
}

# fig_quiet writes back what is dirty and waits FIG_QUIET seconds (default
# 361; 0 skips it) before a figure. On an ext4 without a journal (this
# kind of machine's root) the inode allocator checks, and skips, every
# free inode deleted in the last minute, or the last six while its inode
# table block is dirty — and a block is dirty again as soon as a new inode
# is written to it. So every file created after a big deletion (the
# previous figure's work directory, the go build's temporary files) costs
# more, on every side alike but more for whoever creates more files: `up`
# of 20 replicas took 1.04–1.19 s after a minute's quiet, 0.83–0.96 s
# after six. FIG_QUIET=61 ages out the deletions of the last minute only.
fig_quiet() {
	local secs=${FIG_QUIET:-361}
	[ "$secs" = 0 ] && return
	sync
	echo "(quiet: sync, then $secs s for recently deleted inodes to age out)"
	sleep "$secs"
}

# shellcheck shell=bash
# A private containerd, for comparing switchyard's CRI with containerd's
# (scripts/critest with CRITEST_CONTAINERD=1, scripts/cri-figure). Sourced,
# not run:
#
#   . scripts/lib/containerd.sh
#   trap 'containerd_stop; ...' EXIT
#   containerd_start DIR REGISTRY BRIDGE SUBNET
#   crictl --runtime-endpoint "$containerd_endpoint" ...
#
# DIR is a directory of the caller's work directory (made if missing) that
# holds everything the instance makes: its config, root and state, its
# sockets, its CNI configuration and IPAM state, runc's state and the pods'
# network namespaces. REGISTRY (127.0.0.1:PORT) is where registry.k8s.io,
# gcr.io, k8s.gcr.io and public.ecr.aws are pulled from, over plain http;
# it must hold the pod sandbox image, registry.k8s.io/pause:3.9. BRIDGE and
# SUBNET are the pods' bridge and IPv4 subnet, which nothing else on the
# host may use; the CNI network is named after the bridge. It uses
# containerd, containerd-shim-runc-v2 and runc from PATH, the CNI plugins
# of $CONTAINERD_CNI_BIN (default /usr/lib/cni, Debian's
# containernetworking-plugins) and cgroupfs, not systemd. As root.
#
# containerd_start sets containerd_pid, containerd_endpoint
# (unix://DIR/containerd.sock) and containerd_log (DIR/containerd.log), and
# returns non-zero (with the log on stderr) when containerd does not come
# up. containerd_stop removes the pods, stops containerd and every shim and
# container of this instance, and removes what they made outside DIR (the
# bridge, the CNI plugins' iptables rules and result cache, the shims'
# sockets) and the mounts under DIR. It may be called more than once, and
# when containerd_start failed half-way. DIR itself is left to the caller.
#
# containerd 1.6 cannot be kept entirely within DIR: its shims listen on
# /run/containerd/s/HASH (a constant in containerd), and libcni caches each
# attachment in /var/lib/cni/results. containerd_stop removes this
# instance's files there, and only those.

containerd_pid=""
containerd_endpoint=""
containerd_log=""
_cd_dir=""
_cd_bridge=""
_cd_run_made=""
_cd_cgroups_made=()

# _cd_ids prints the ids of the instance's sandboxes and containers (its
# shims' task directories), one a line.
_cd_ids() {
	local d=$_cd_dir/state/io.containerd.runtime.v2.task/k8s.io
	[ -d "$d" ] && ls -1 "$d"
	return 0
}

containerd_start() {
	local dir=$1 registry=$2 bridge=$3 subnet=$4
	local cni_bin=${CONTAINERD_CNI_BIN:-/usr/lib/cni}
	mkdir -p "$dir"
	_cd_dir=$(cd "$dir" && pwd)
	_cd_bridge=$bridge
	dir=$_cd_dir
	containerd_endpoint=unix://$dir/containerd.sock
	containerd_log=$dir/containerd.log
	# The shims' sockets go to /run/containerd/s whatever the config says
	# (see above): containerd_stop removes the directories if they are
	# made here.
	[ -d /run/containerd ] || _cd_run_made=1
	# Pods without a cgroup parent go to /k8s.io/ID of each hierarchy;
	# runc removes ID, containerd_stop the /k8s.io it made.
	local c
	_cd_cgroups_made=()
	for c in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do # v2, v1 and hybrid
		[ -d "${c}k8s.io" ] || _cd_cgroups_made+=("${c}k8s.io")
	done
	mkdir -p "$dir/root" "$dir/state" "$dir/tmp" "$dir/opt" "$dir/runc" "$dir/cni/net.d" "$dir/cni/ipam"

	# The pods' network: one bridge, masqueraded outside its subnet, with
	# host ports (portmap, which CRI's port mappings need). The loopback
	# device of each pod is brought up by containerd itself (go-cni's
	# loopback network, with the loopback plugin of bin_dir), not by this
	# list; containerd 1.6 loads one network (max_conf_num = 1).
	cat >"$dir/cni/net.d/10-$bridge.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$bridge",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$subnet"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$dir/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

	# Plugins with nothing to work with here (aufs, btrfs, zfs, devmapper:
	# no such filesystem or pool; otlp: no collector) are disabled: a
	# containerd built with them logs an error for each at every start
	# (Debian's is built without them). The v1 shim runtime (io.containerd.runtime.
	# v1.linux) stays: containerd 1.6's tasks service, hence CRI, will not
	# load without it. The streaming server (exec, attach, port-forward) takes
	# any free port of 127.0.0.1.
	#
	# The pause container asks for oom_score_adj -998, which runc cannot
	# set without CAP_SYS_RESOURCE (a root without it: in a container, in
	# some VMs): every pod fails with "can't get final child's PID from
	# pipe". Without that capability, restrict_oom_score_adj keeps
	# containers' scores at or above containerd's own instead.
	local restrict_oom=false caps
	caps=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
	(((16#$caps >> 24) & 1)) || restrict_oom=true
	cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
temp = "$dir/tmp"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = $restrict_oom
  enable_selinux = false

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "$dir/runc"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$cni_bin"
  conf_dir = "$dir/cni/net.d"
  max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]
  endpoint = ["http://$registry"]
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."gcr.io"]
  endpoint = ["http://$registry"]
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."k8s.gcr.io"]
  endpoint = ["http://$registry"]
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."public.ecr.aws"]
  endpoint = ["http://$registry"]
TOML

	containerd --config "$dir/config.toml" --log-level "${CONTAINERD_LOG_LEVEL:-warn}" >"$containerd_log" 2>&1 &
	containerd_pid=$!
	local deadline=$((SECONDS + 30))
	until crictl --runtime-endpoint "$containerd_endpoint" --timeout 2s info >/dev/null 2>&1; do
		if ! kill -0 "$containerd_pid" 2>/dev/null || ((SECONDS >= deadline)); then
			echo "containerd did not start; its log ($containerd_log):" >&2
			cat "$containerd_log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# _cd_remove_rules deletes, in the nat and filter tables, every rule whose
# comment names the network (the bridge plugin's masquerading, portmap's
# DNAT: 'name: "NET" id: "ID"') and the per-pod chains they jump to, then
# portmap's shared chains once no pod of anyone's is left in them (as
# switchyard-daemon remove-networks does).
_cd_remove_rules() {
	python3 - "$1" <<'PY'
import shlex, subprocess, sys
net = sys.argv[1]
def ipt(*args, check=False):
    return subprocess.run(["iptables", "-w", "5", *args], capture_output=True, text=True, check=check)
for table in ("nat", "filter"):
    chains = set()
    for line in ipt("-t", table, "-S").stdout.splitlines():
        words = shlex.split(line)
        if not words or words[0] != "-A" or f'name: "{net}" ' not in line.replace('\\"', '"'):
            continue
        if "-j" in words:
            target = words[words.index("-j") + 1]
            if target.startswith("CNI-") and not target.startswith("CNI-HOSTPORT-"):
                chains.add(target)
        ipt("-t", table, "-D", *words[1:])
    for c in sorted(chains):
        ipt("-t", table, "-F", c)
        ipt("-t", table, "-X", c)
dnat = ipt("-t", "nat", "-S", "CNI-HOSTPORT-DNAT")
if dnat.returncode == 0 and len(dnat.stdout.strip().splitlines()) <= 1:
    for chain, spec in (
        ("PREROUTING", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"]),
        ("OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"]),
        ("POSTROUTING", ["-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"]),
    ):
        while ipt("-t", "nat", "-C", chain, *spec).returncode == 0:
            ipt("-t", "nat", "-D", chain, *spec)
    for c in ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"):
        ipt("-t", "nat", "-F", c)
        ipt("-t", "nat", "-X", c)
PY
}

containerd_stop() {
	[ -n "$_cd_dir" ] || return 0
	local dir=$_cd_dir sock=$_cd_dir/containerd.sock id p h
	if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null; then
		# Removing the pods runs the CNI plugins' DEL (addresses, rules,
		# veths) and ends the shims cleanly, sockets and all.
		timeout 120 crictl --runtime-endpoint "$containerd_endpoint" rmp --all --force >/dev/null 2>&1
		kill "$containerd_pid" 2>/dev/null
		wait "$containerd_pid" 2>/dev/null
	fi
	containerd_pid=""
	# What is left when a pod would not go: shims started with this
	# instance's address, then the containers runc still knows of.
	for p in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $sock( |\$)"); do kill -9 "$p" 2>/dev/null; done
	if [ -d "$dir/runc/k8s.io" ]; then
		for id in $(runc --root "$dir/runc/k8s.io" list -q 2>/dev/null); do
			runc --root "$dir/runc/k8s.io" delete --force "$id" >/dev/null 2>&1
		done
	fi
	# The shims' sockets: /run/containerd/s/sha256(ADDRESS/NAMESPACE/ID),
	# where ID is the shim's first task (a pod's sandbox).
	for id in $(_cd_ids); do
		h=$(printf '%s' "$sock/k8s.io/$id" | sha256sum | cut -d' ' -f1)
		rm -f "/run/containerd/s/$h"
		rm -f /var/lib/cni/results/"$_cd_bridge-$id"-* /var/lib/cni/results/cni-loopback-"$id"-*
	done
	if [ -n "$_cd_run_made" ]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null
	fi
	# Network namespaces (bind mounts under state/netns), the snapshots and
	# the sandboxes' /dev/shm.
	grep -o " $dir/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	# rmdir removes a cgroup only when no process and no child is left.
	for p in "${_cd_cgroups_made[@]}"; do [ -d "$p" ] && rmdir "$p" 2>/dev/null; done
	ip link delete "$_cd_bridge" 2>/dev/null
	_cd_remove_rules "$_cd_bridge"
	return 0
}

# containerd_install_deps installs Debian's containerd (containerd,
# containerd-shim-runc-v2) when it is missing; runc and the CNI plugins
# come with scripts/install-deps.
containerd_install_deps() {
	command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "containerd: need root to install Debian's containerd" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd >/dev/null; }
}

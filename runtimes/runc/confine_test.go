package runc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// runOutput runs script in a container made from cs (its entrypoint
// replaced) and returns what it printed once it exited.
func runOutput(t *testing.T, rt *Runtime, name string, cs *runtime.CreateSpec, script string) string {
	t.Helper()
	cs.Image = busyboxRef
	cs.Entrypoint = []string{"sh", "-c", script}
	id := cid(name)
	mustRun(t, rt, id, cs)
	mustWait(t, rt, id)
	return logText(t, rt, id, runtime.Stdout) + logText(t, rt, id, runtime.Stderr)
}

// TestConfinementFromInside applies each security and resource field of
// the create request and looks at the result from inside the container:
// its status in /proc, its mounts, its cgroup files, its ids.
func TestConfinementFromInside(t *testing.T) {
	rt := newTestRuntime(t)
	oom := 500
	swappiness := uint8(10)
	for _, tc := range []struct {
		name   string
		cs     runtime.CreateSpec
		script string
		want   []string
	}{
		{"privileged", runtime.CreateSpec{Security: runtime.Security{Privileged: true}},
			"grep -E '^(CapEff|Seccomp):' /proc/self/status; test -c /dev/fuse && echo fuse; mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && echo mounted; touch /sys/kernel/x 2>/dev/null; grep -c . /proc/kcore >/dev/null 2>&1 && echo kcore",
			[]string{"CapEff:\t" + ownCaps(t, "CapBnd"), "Seccomp:\t0", "fuse", "mounted"}},
		{"cap_add", runtime.CreateSpec{Security: runtime.Security{CapAdd: []string{"net_admin"}}},
			"grep CapEff /proc/self/status; ip link set lo mtu 1400 && echo set", []string{"CapEff:\t00000000a80435fb", "set"}},
		{"cap_drop", runtime.CreateSpec{Security: runtime.Security{CapDrop: []string{"CHOWN"}}},
			"grep CapEff /proc/self/status; chown 1 /tmp 2>&1; echo rc=$?", []string{"CapEff:\t00000000a80425fa", "rc=1"}},
		{"cap_drop all", runtime.CreateSpec{Security: runtime.Security{CapDrop: []string{"ALL"}}},
			"grep CapEff /proc/self/status", []string{"CapEff:\t0000000000000000"}},
		{"user and groups", runtime.CreateSpec{User: "1000:1000", ExtraGroups: []string{"2000"}},
			"id; grep CapEff /proc/self/status", []string{"uid=1000 gid=1000 groups=2000", "CapEff:\t0000000000000000"}},
		{"read-only root", runtime.CreateSpec{Security: runtime.Security{ReadOnlyRootFS: true}},
			"touch /x 2>&1; echo rc=$?; touch /dev/shm/x && echo shm-writable", []string{"Read-only file system", "rc=1", "shm-writable"}},
		{"seccomp unconfined", runtime.CreateSpec{Security: runtime.Security{Seccomp: "unconfined"}},
			"grep '^Seccomp:' /proc/self/status", []string{"Seccomp:\t0"}},
		{"new privileges allowed", runtime.CreateSpec{Security: runtime.Security{AllowNewPrivileges: true}},
			"grep NoNewPrivs /proc/self/status", []string{"NoNewPrivs:\t0"}},
		{"device read-only", runtime.CreateSpec{Security: runtime.Security{Devices: []runtime.Device{{Path: "/dev/fuse", Access: "r"}}}},
			"ls -l /dev/fuse; echo x > /dev/fuse 2>&1; echo rc=$?", []string{"10, 229", "Operation not permitted", "rc=1"}},
		{"sysctls", runtime.CreateSpec{Security: runtime.Security{Sysctls: map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmni": "2048"}}},
			"cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni", []string{"1\n2048"}},
		{"ulimits", runtime.CreateSpec{Security: runtime.Security{Ulimits: []runtime.Ulimit{{Name: "nofile", Soft: 512, Hard: 800}, {Name: "nproc", Soft: 300, Hard: 300}}}},
			"ulimit -n; ulimit -Hn; ulimit -u", []string{"512\n800\n300"}},
		{"host pid namespace", runtime.CreateSpec{Security: runtime.Security{PidHost: true}},
			"test $$ -ne 1 && echo not-pid-1; cat /proc/1/comm", []string{"not-pid-1"}},
		{"host ipc namespace", runtime.CreateSpec{Security: runtime.Security{IpcHost: true}},
			"readlink /proc/self/ns/ipc", []string{hostNS(t, "ipc")}},
		{"hostname, dns and extra hosts", runtime.CreateSpec{Hostname: "web.local", Network: runtime.NetworkSpec{
			DNS: []netip.Addr{netip.MustParseAddr("9.9.9.9")}, ExtraHosts: []runtime.HostEntry{{Name: "db.local", Address: netip.MustParseAddr("10.0.0.5")}}}},
			"hostname; echo HOSTNAME=$HOSTNAME; cat /etc/resolv.conf /etc/hosts", []string{"web.local", "HOSTNAME=web.local", "nameserver 9.9.9.9", "10.0.0.5\tdb.local"}},
		{"cgroup extras", runtime.CreateSpec{Resources: runtime.Resources{
			MemoryBytes: 64 << 20, MemorySwapBytes: 128 << 20, MemoryReservationBytes: 32 << 20, MemorySwappiness: &swappiness,
			OOMKillDisable: true, PidsLimit: 50, Cpuset: "0", CPUShares: 512, OOMScoreAdj: &oom}},
			"cd /sys/fs/cgroup; cat pids/pids.max cpuset/cpuset.cpus cpu/cpu.shares memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes memory/memory.swappiness; grep oom_kill_disable memory/memory.oom_control; cat /proc/self/oom_score_adj",
			[]string{"50\n0\n512\n134217728\n33554432\n10\noom_kill_disable 1\n500"}},
		{"tmpfs", runtime.CreateSpec{Volumes: []runtime.Volume{{Name: "scratch", Path: "/scratch", Kind: runtime.VolumeTmpfs, SizeBytes: 8 << 20, Mode: 0o1777}}},
			"grep ' /scratch ' /proc/mounts; stat -c %a /scratch", []string{"tmpfs /scratch tmpfs rw,nosuid,nodev", "size=8192k", "1777"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := tc.cs
			out := runOutput(t, rt, nameOf(tc.name), &cs, tc.script)
			t.Logf("seen from inside:\n%s", out)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// nameOf makes a container name of a test case's name.
func nameOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

// ownCaps is one of this process's capability sets, as /proc shows it.
func ownCaps(t *testing.T, set string) string {
	mask, ok := ownCapSet(set)
	if !ok {
		t.Fatalf("no %s in /proc/self/status", set)
	}
	return fmt.Sprintf("%016x", mask)
}

// hostNS is the agent's own namespace of kind, as readlink shows it.
func hostNS(t *testing.T, kind string) string {
	l, err := os.Readlink("/proc/self/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestConfinementRefusals: what the host cannot give is an error at create
// that names the field, not a container that fails to start.
func TestConfinementRefusals(t *testing.T) {
	rt := newTestRuntime(t)
	low := -500
	own, _ := os.ReadFile("/proc/self/oom_score_adj")
	for _, tc := range []struct {
		name string
		cs   runtime.CreateSpec
		want string
		skip bool
	}{
		{"ulimit above the host", runtime.CreateSpec{Security: runtime.Security{Ulimits: []runtime.Ulimit{{Name: "nofile", Soft: 1 << 30, Hard: 1 << 30}}}}, "ulimit nofile: hard limit 1073741824 is above this host's", hasCapability(24)},
		{"oom score below the agent's", runtime.CreateSpec{Resources: runtime.Resources{OOMScoreAdj: &low}}, "oom_score_adj -500: below the agent's own", hasCapability(24) || strings.TrimSpace(string(own)) == "-1000"},
		{"missing device", runtime.CreateSpec{Security: runtime.Security{Devices: []runtime.Device{{Path: "/dev/nope"}}}}, "device /dev/nope", false},
		{"unknown capability", runtime.CreateSpec{Security: runtime.Security{CapAdd: []string{"FLY"}}}, `"FLY" is not a Linux capability`, false},
		{"host-wide sysctl", runtime.CreateSpec{Security: runtime.Security{Sysctls: map[string]string{"vm.swappiness": "1"}}}, `"vm.swappiness" is not a namespaced setting`, false},
		{"cpuset beyond the node", runtime.CreateSpec{Resources: runtime.Resources{Cpuset: "0-511"}}, `cpuset "0-511": this node has CPUs 0 to`, false},
		{"bad stop signal", runtime.CreateSpec{StopSignal: "SIGFOO"}, `"SIGFOO" is not a signal`, false},
		{"blkio weight without a weighted scheduler", runtime.CreateSpec{Resources: runtime.Resources{BlkioWeight: 500}}, "resources.blkio_weight: this host's I/O scheduler has no weights", blkioWeight()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip {
				t.Skip("this host can give it")
			}
			cs := tc.cs
			cs.Image, cs.Entrypoint = busyboxRef, []string{"true"}
			err := rt.Create(context.Background(), cid(nameOf(tc.name)), &cs)
			if !errors.Is(err, runtime.ErrInvalidArgument) && !errors.Is(err, runtime.ErrNotSupported) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Create: %v; want an invalid-argument error containing %q", err, tc.want)
			}
			if _, err := rt.State(context.Background(), cid(nameOf(tc.name))); !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("a refused create left a container: %v", err)
			}
		})
	}
}

// TestStopSignal: Stop sends the container's stop signal first.
func TestStopSignal(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("quits")
	cs := shSpec("quits", `trap 'echo got-quit; exit 0' QUIT; echo trap-set; while :; do sleep 1 & wait $!; done`)
	cs.StopSignal = "QUIT"
	mustRun(t, rt, id, cs)
	waitTrapSet(t, rt, id)
	if err := rt.Stop(context.Background(), id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if o := mustWait(t, rt, id); o.ExitCode != 0 || !strings.Contains(logText(t, rt, id, runtime.Stdout), "got-quit") {
		t.Errorf("exit %d, log %q; want the QUIT trap to have run", o.ExitCode, logText(t, rt, id, runtime.Stdout))
	}
}

// TestNamedVolumeIsShared: a named volume outlives its container and is
// the same directory for every container that names it.
func TestNamedVolumeIsShared(t *testing.T) {
	rt := newTestRuntime(t)
	vol := []runtime.Volume{{Name: "shared-data", Path: "/data", Kind: runtime.VolumeNamed}}
	runOutput(t, rt, "writer", &runtime.CreateSpec{Volumes: vol}, "echo hello > /data/greeting")
	if err := rt.Remove(context.Background(), cid("writer"), true); err != nil {
		t.Fatal(err)
	}
	if out := runOutput(t, rt, "reader", &runtime.CreateSpec{Volumes: vol}, "cat /data/greeting"); !strings.Contains(out, "hello") {
		t.Errorf("reader saw %q; want what the removed writer left", out)
	}
	testutil.Eventually(t, 5*time.Second, "the volume on disk", func() bool {
		_, err := os.Stat(filepath.Join(rt.root, "volumes", "shared-data", "greeting"))
		return err == nil
	})
}

// TestTerminal: a container asked for a terminal has one (its stdin, stdout
// and stderr are a tty, TERM is set), and what it prints reaches the log.
func TestTerminal(t *testing.T) {
	rt := newTestRuntime(t)
	out := runOutput(t, rt, "tty", &runtime.CreateSpec{TTY: true}, `test -t 0 && test -t 1 && test -t 2 && echo "on a terminal, TERM=$TERM"; echo to-stderr >&2`)
	if !strings.Contains(out, "on a terminal, TERM=xterm") || !strings.Contains(out, "to-stderr") {
		t.Errorf("output:\n%s", out)
	}
	if out := runOutput(t, rt, "notty", &runtime.CreateSpec{}, `test -t 1 || echo no-terminal`); !strings.Contains(out, "no-terminal") {
		t.Errorf("without tty: %s", out)
	}
	// An exec into it has no terminal and still works.
	id := cid("ttyexec")
	cs := shSpec("ttyexec", untilStoppedSaying)
	cs.TTY = true
	mustRun(t, rt, id, cs)
	waitTrapSet(t, rt, id)
	res, err := rt.Exec(context.Background(), id, []string{"echo", "exec-ok"})
	if err != nil || !strings.Contains(res.Stdout, "exec-ok") {
		t.Errorf("exec: %+v, %v", res, err)
	}
}

package runc

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/nspin"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
)

// Two containers of one pod share its network, IPC and UTS namespaces and
// its /etc files, and the pod outlives them: removing the containers
// leaves the pod's namespaces, which are the pod's to release. Each
// container's output is copied in the CRI format to its log path.
func TestContainersJoinTheirPod(t *testing.T) {
	rt := newTestRuntime(t)
	dir := t.TempDir()
	pod := &runtime.Pod{ID: "p1", EtcDir: filepath.Join(dir, "etc"), NetNS: filepath.Join(dir, "netns"),
		IPCNS: filepath.Join(dir, "ipcns"), UTSNS: filepath.Join(dir, "utsns"), Hostname: "podhost"}
	if err := network.NewNamespace(pod.NetNS); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = network.RemoveNamespace(pod.NetNS) })
	for _, p := range []struct {
		path string
		kind int
		set  func() error
	}{{pod.IPCNS, unix.CLONE_NEWIPC, nil}, {pod.UTSNS, unix.CLONE_NEWUTS, func() error { return unix.Sethostname([]byte("podhost")) }}} {
		if err := nspin.Pin(p.path, p.kind, p.set); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nspin.Release(p.path) })
	}
	if err := os.MkdirAll(pod.EtcDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pod.EtcDir, "hosts"), []byte("127.0.0.1 localhost\n10.9.9.9 podhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := func(id runtime.ContainerID, kind string) string {
		t.Helper()
		pid, err := rt.PID(ctx, id)
		if err != nil || pid == 0 {
			t.Fatalf("PID(%s) = %d, %v", id, pid, err)
		}
		l, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "ns", kind))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	var ids []runtime.ContainerID
	for _, name := range []string{"pod-a", "pod-b"} {
		id := cid(name)
		cs := shSpec(name, "hostname; "+untilStopped)
		cs.Pod = pod
		cs.LogPath = filepath.Join(dir, "logs", name+".log")
		if err := os.MkdirAll(filepath.Dir(cs.LogPath), 0o755); err != nil {
			t.Fatal(err)
		}
		mustRun(t, rt, id, cs)
		ids = append(ids, id)
	}
	for _, kind := range []string{"net", "ipc", "uts"} {
		if a, b := ns(ids[0], kind), ns(ids[1], kind); a != b {
			t.Errorf("the containers' %s namespaces differ: %s, %s", kind, a, b)
		}
	}
	if a, host := ns(ids[0], "net"), selfNS(t, "net"); a == host {
		t.Errorf("a pod container is on the host's network")
	}
	res, err := rt.Exec(ctx, ids[1], []string{"cat", "/etc/hosts"})
	if err != nil || !strings.Contains(res.Stdout, "10.9.9.9 podhost") {
		t.Errorf("/etc/hosts in the pod = %q, %v; want the pod's", res.Stdout, err)
	}
	line := regexp.MustCompile(`(?m)^\S+Z stdout F podhost$`)
	testutil.Eventually(t, 20*time.Second, "the CRI log copy", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "logs", "pod-a.log"))
		return line.Match(b)
	})
	for _, id := range ids {
		if err := rt.Remove(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	if !network.IsNamespace(pod.NetNS) || !nspin.IsPinned(pod.IPCNS) || !nspin.IsPinned(pod.UTSNS) {
		t.Errorf("removing the pod's containers took its namespaces")
	}
	// A pod whose network namespace is gone is refused, naming the remedy.
	gone := *pod
	gone.NetNS = filepath.Join(dir, "no-netns")
	cs := shSpec("pod-c", "true")
	cs.Pod = &gone
	if err := rt.Create(ctx, cid("pod-c"), cs); err == nil || !strings.Contains(err.Error(), "run the pod again") {
		t.Errorf("Create in a pod without its namespace = %v; want it refused", err)
	}
}

// A running container's limits change at once, and stay for its next run.
func TestUpdateResources(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := cid("update")
	cs := shSpec("update", untilStopped)
	cs.Resources.MemoryBytes = 64 << 20
	mustRun(t, rt, id, cs)
	limit := func() string {
		t.Helper()
		res, err := rt.Exec(ctx, id, []string{"cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"})
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(res.Stdout)
	}
	if got := limit(); got != strconv.Itoa(64<<20) {
		t.Skipf("this host's cgroups show the container's memory limit as %q; the test reads cgroup v1's file", got)
	}
	if err := rt.UpdateResources(ctx, id, runtime.Resources{MemoryBytes: 96 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := limit(); got != strconv.Itoa(96<<20) {
		t.Errorf("memory limit after the update = %s; want %d", got, 96<<20)
	}
	if err := rt.Stop(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := limit(); got != strconv.Itoa(96<<20) {
		t.Errorf("memory limit in the next run = %s; want %d", got, 96<<20)
	}
	if d, err := rt.Inspect(ctx, id); err != nil || d.Resources.MemoryBytes != 96<<20 {
		t.Errorf("Inspect's resources = %+v, %v", d.Resources, err)
	}
	if err := rt.UpdateResources(ctx, id, runtime.Resources{MemoryBytes: -1}); err == nil {
		t.Errorf("a negative memory limit was taken")
	}
}

func selfNS(t *testing.T, kind string) string {
	l, err := os.Readlink("/proc/self/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

package cgroupfs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestRemoveKillsAndRemoves makes a cgroup in every hierarchy of the host,
// with cgroups under it, puts a process in the deepest of one, and removes
// the cgroup: the process is killed and no directory is left.
func TestRemoveKillsAndRemoves(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	path := fmt.Sprintf("/switchyard-cgroupfs-test/%d", os.Getpid())
	hier, _ := filepath.Glob(filepath.Join(Root, "*", "cgroup.procs"))
	if len(hier) == 0 {
		if _, err := os.Stat(filepath.Join(Root, "cgroup.procs")); err != nil {
			t.Skip("no cgroup filesystem here")
		}
		hier = []string{filepath.Join(Root, "cgroup.procs")}
	}
	var made []string
	for _, h := range hier {
		d := filepath.Join(filepath.Dir(h), path)
		// A cgroup the workload made under its own, two deep, as a
		// container running a container engine does.
		if err := os.MkdirAll(filepath.Join(d, "inner", "deeper"), 0o755); err == nil {
			made = append(made, d)
		}
	}
	t.Cleanup(func() {
		for _, d := range made {
			os.Remove(filepath.Join(d, "inner", "deeper"))
			os.Remove(filepath.Join(d, "inner"))
			os.Remove(d)
			os.Remove(filepath.Dir(d))
		}
	})
	if len(made) == 0 {
		t.Skip("no hierarchy takes a new cgroup here")
	}
	if got := Dirs(Root, path); len(got) != len(made) {
		t.Fatalf("Dirs = %v, want %v", got, made)
	}
	sleeper := exec.Command("sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sleeper.Wait() }()
	t.Cleanup(func() { sleeper.Process.Kill() })
	if err := os.WriteFile(filepath.Join(made[0], "inner", "deeper", "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Remove(context.Background(), Root, path); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, d := range made {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind (%v)", d, err)
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the process in the cgroup was not killed")
	}
}

// TestRemoveRefusesTheRoot: an empty or root path would name every
// process of the host.
func TestRemoveRefusesTheRoot(t *testing.T) {
	for _, p := range []string{"", "/", "//", "/a/.."} {
		if err := Remove(context.Background(), t.TempDir(), p); err == nil {
			t.Errorf("Remove(%q) = nil, want a refusal", p)
		}
	}
}

// TestRemoveMissing: a cgroup that no hierarchy has is removed already.
func TestRemoveMissing(t *testing.T) {
	if err := Remove(context.Background(), t.TempDir(), "/switchyard/none"); err != nil {
		t.Fatal(err)
	}
}

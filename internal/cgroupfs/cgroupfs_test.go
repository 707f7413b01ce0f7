package cgroupfs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// TestKillAllSparesOthers: a pid listed in a cgroup directory whose
// process is not in that cgroup (it ended and the pid went to another
// process after the listing) is not killed.
func TestKillAllSparesOthers(t *testing.T) {
	other := exec.Command("sleep", "600")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { other.Wait(); close(done) }()
	t.Cleanup(func() { other.Process.Kill(); <-done })
	// A listing that names it, for a cgroup it is not in.
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(other.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	killAll(d, fmt.Sprintf("/switchyard-cgroupfs-test/%d", os.Getpid()))
	select {
	case <-done:
		t.Fatal("a process outside the cgroup was killed")
	case <-time.After(200 * time.Millisecond):
	}
}

// TestInCgroup reads this process's own cgroup lines.
func TestInCgroup(t *testing.T) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip("no /proc/self/cgroup")
	}
	var own string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 {
			own = parts[2]
			break
		}
	}
	pid := os.Getpid()
	if !inCgroup(pid, own) {
		t.Errorf("inCgroup(self, %q) = false, want true", own)
	}
	if own != "/" && !inCgroup(pid, filepath.Dir(own)) && filepath.Dir(own) != "/" {
		t.Errorf("inCgroup(self, parent %q) = false, want true", filepath.Dir(own))
	}
	if inCgroup(pid, "/switchyard-nowhere") {
		t.Error("inCgroup(self, /switchyard-nowhere) = true")
	}
	if inCgroup(pid, own+"-suffix") {
		t.Errorf("inCgroup(self, %q) = true: a prefix of a name is not a parent", own+"-suffix")
	}
}

// TestListsCgroup: the path is matched whole, in any hierarchy's line.
func TestListsCgroup(t *testing.T) {
	file := "12:memory:/switchyard/web.1a2b\n3:cpu,cpuacct:/switchyard/web.1a2b/inner\n1:name=systemd:/user.slice\n0::/switchyard/web.1a2b\n"
	for _, c := range []struct {
		path string
		want bool
	}{
		{"/switchyard/web.1a2b", true},
		{"/switchyard", true},
		{"/switchyard/web.1a2b/inner", true},
		{"/switchyard/web.1a", false},
		{"/switchyard/other", false},
		{"/user.slice/x", false},
	} {
		if got := listsCgroup(file, c.path); got != c.want {
			t.Errorf("listsCgroup(%q) = %v, want %v", c.path, got, c.want)
		}
	}
	if listsCgroup("garbage\n::\n", "/x") {
		t.Error("a file with no such path lists it")
	}
}

// FuzzListsCgroup: any file, any path; a match names the path in a line.
func FuzzListsCgroup(f *testing.F) {
	f.Add("12:memory:/switchyard/a\n0::/switchyard/a\n", "/switchyard/a")
	f.Add("0::/\n", "/")
	f.Add("::::\n:", "")
	f.Fuzz(func(t *testing.T, file, path string) {
		if listsCgroup(file, path) && !strings.Contains(file, path) {
			t.Fatalf("listsCgroup(%q, %q) = true, but the file does not name the path", file, path)
		}
	})
}

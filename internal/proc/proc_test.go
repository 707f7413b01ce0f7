package proc

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// A live process has a start time that does not change; a process that
// has ended (reaped) has none.
func TestStart(t *testing.T) {
	a, ok := Start(os.Getpid())
	if !ok || a == 0 {
		t.Fatalf("Start(self) = %d, %v", a, ok)
	}
	if b, _ := Start(os.Getpid()); b != a {
		t.Fatalf("the start time moved: %d, %d", a, b)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1) to run")
	}
	if _, ok := Start(cmd.Process.Pid); ok {
		// The pid may have been taken again already; only a match of the
		// old process would be wrong, and it is gone.
		t.Logf("pid %d was taken by another process", cmd.Process.Pid)
	}
	if _, ok := Start(-1); ok {
		t.Fatal("Start(-1) found a process")
	}
}

func TestBootTime(t *testing.T) {
	got, ok := bootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n")
	if !ok || !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("bootTime = %v, %v; want 1700000000", got, ok)
	}
	for _, bad := range []string{"", "btime\n", "btime x\n", "btime -5\n", "cpu 1\n"} {
		if _, ok := bootTime(bad); ok {
			t.Errorf("bootTime(%q) ok, want not", bad)
		}
	}
	boot, ok := Booted()
	if !ok || boot.After(time.Now()) {
		t.Fatalf("Booted = %v, %v; want a time before now", boot, ok)
	}
	if !BeforeBoot(boot.Add(-time.Hour)) || BeforeBoot(time.Now()) || BeforeBoot(time.Time{}) {
		t.Error("BeforeBoot: an hour before the boot is before it; now and the zero time are not")
	}
}

func FuzzBootTime(f *testing.F) {
	f.Add("btime 1700000000\n")
	f.Add("cpu 1\nbtime 12\n")
	f.Fuzz(func(t *testing.T, stat string) {
		if got, ok := bootTime(stat); ok && got.Unix() <= 0 {
			t.Fatalf("bootTime(%q) = %v, ok", stat, got)
		}
	})
}

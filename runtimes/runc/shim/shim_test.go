package shim

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestCounter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memory.oom_control")
	if err := os.WriteFile(path, []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key string
		want      uint64
		ok        bool
	}{
		{"present", "oom_kill", 3, true},
		{"prefix of another key", "oom", 0, false},
		{"absent", "nope", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, ok := counter(path, tc.key); n != tc.want || ok != tc.ok {
				t.Errorf("counter(%s) = %d, %v", tc.key, n, ok)
			}
		})
	}
	if _, ok := counter(filepath.Join(t.TempDir(), "missing"), "oom_kill"); ok {
		t.Errorf("counter of a missing file reports ok")
	}
	if oomKilled("") {
		t.Errorf("oomKilled without a cgroup")
	}
}

func TestMainUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no flags", nil},
		{"unknown flag", []string{"--nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := Main(tc.args); code != 2 {
				t.Errorf("Main(%q) = %d, want 2", tc.args, code)
			}
		})
	}
}

func TestCreateKind(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`unable to start container process: exec: "nope": executable file not found in $PATH`, runtime.ErrInvalidArgument},
		{"unable to set memory limit to 65536 (current usage: 2113536, peak usage: 2248704)", runtime.ErrInvalidArgument},
		// Missing while creating: the request is wrong, not the container.
		{"mount source /data does not exist", runtime.ErrInvalidArgument},
		{"exit status 1", runtime.ErrUnavailable},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			if got := createKind(tc.msg); !errors.Is(got, tc.want) {
				t.Errorf("createKind(%q) = %v, want %v", tc.msg, got, tc.want)
			}
		})
	}
}

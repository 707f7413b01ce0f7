package shim

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestExitRecord(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadExit(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadExit of a run that has not ended: %v, want not exist", err)
	}
	want := Exit{Gen: 2, Code: 137, Signal: 9, OOMKilled: true, FinishedAt: time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)}
	b := []byte(`{"gen":2,"code":137,"signal":9,"oom_killed":true,"finished_at":"2026-01-01T00:00:00.000000005Z"}`)
	if err := WriteFileAtomic(filepath.Join(dir, ExitFile), b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadExit(dir)
	if err != nil || got != want {
		t.Fatalf("ReadExit = %+v, %v; want %+v", got, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ExitFile+".tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ExitFile), []byte("{"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadExit(dir); err == nil {
		t.Errorf("ReadExit of a torn record: no error")
	}
}

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

func TestRuncError(t *testing.T) {
	path := filepath.Join(t.TempDir(), RuncLogFile)
	log := `{"level":"info","msg":"hello"}` + "\n" + `{"level":"error","msg":"first"}` + "\nnot json\n" + `{"level":"fatal","msg":"last"}` + "\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := RuncError(path); got != "last" {
		t.Errorf("RuncError = %q, want last", got)
	}
	if got := RuncError(path + ".missing"); got != "" {
		t.Errorf("RuncError of a missing log = %q", got)
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

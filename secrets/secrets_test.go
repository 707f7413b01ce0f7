package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create("db-password", []byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("db-password"); err != nil || string(v) != "hunter2" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Create("db-password", []byte("other")); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("second Create: %v; want already exists", err)
	}
	if v, _ := s.Get("db-password"); string(v) != "hunter2" {
		t.Errorf("a refused Create changed the value to %q", v)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "db-password"): 0o600, filepath.Join(dir, PrivateDir): 0o700} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Name != "db-password" || list[0].Size != 7 {
		t.Errorf("List = %+v, %v", list, err)
	}
	if err := s.Remove("db-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("db-password"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Get after Remove: %v", err)
	}
	if err := s.Remove("db-password"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("second Remove: %v", err)
	}
	for _, bad := range []string{"", "1abc", "a/b", "../x", ".hidden", "a b"} {
		if err := s.Create(bad, []byte("v")); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("Create(%q): %v; want invalid argument", bad, err)
		}
	}
	if err := s.Create("empty", nil); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("empty value: %v", err)
	}
	if err := s.Create("big", make([]byte, MaxSize+1)); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("oversized value: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != PrivateDir {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

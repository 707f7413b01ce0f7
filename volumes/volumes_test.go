package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestCreateGetListRemove(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create("data", map[string]string{"team": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Path != filepath.Join(dir, "data") || v.Labels["team"] != "a" || v.Created.IsZero() {
		t.Fatalf("Create = %+v", v)
	}
	// Creating it again returns it; with other labels it is refused.
	if again, err := s.Create("data", nil); err != nil || !again.Created.Equal(v.Created) {
		t.Fatalf("Create again = %+v, %v; want the same volume", again, err)
	}
	if _, err := s.Create("data", map[string]string{"team": "b"}); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("Create with other labels: %v; want already exists", err)
	}
	// A volume a container made by naming it has no metadata, and lists.
	if err := os.Mkdir(filepath.Join(dir, "made-by-use"), 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Name != "data" || list[1].Name != "made-by-use" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("data"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("data"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Get after Remove: %v; want not found", err)
	}
	if _, err := os.Stat(filepath.Join(dir, metaDir, "data.json")); !os.IsNotExist(err) {
		t.Fatalf("metadata left after Remove: %v", err)
	}
	if err := s.Remove("data"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Remove again: %v; want not found", err)
	}
}

func TestBadNamesAreRefused(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../x", ".meta", "a/b", "-x"} {
		if _, err := s.Create(name, nil); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("Create(%q): %v; want invalid argument", name, err)
		}
		if _, err := s.Get(name); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Get(%q): %v; want not found", name, err)
		}
	}
}

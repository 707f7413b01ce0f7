package images

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// TestUsesAreKeptByTheRuntimes: a use lives in memory, so a reopened store
// (a restarted agent) has none until the runtime keeps it again; kept, it
// protects the image as an acquired one does. Keep refuses another
// manifest for the key and a manifest the store no longer has.
func TestUsesAreKeptByTheRuntimes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	layer := mustLayer(t, file{name: "f", body: "x"})
	a := mustWrite(t, s, "example.com/a:1", mustImage(t, layer))
	b := mustWrite(t, s, "example.com/b:1", mustImage(t, mustLayer(t, file{name: "g", body: "y"})))
	if _, err := s.Acquire(ctx, "web-rep-0.1", "example.com/a:1", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Keep(ctx, "web-rep-0.1", "example.com/a:1", a.Digest); err != nil {
		t.Fatalf("Keep = %v", err)
	}
	if err := s.Keep(ctx, "web-rep-0.1", "example.com/a:1", a.Digest); err != nil {
		t.Errorf("Keep again = %v, want a no-op", err)
	}
	if err := s.Keep(ctx, "web-rep-0.1", "example.com/b:1", b.Digest); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("Keep of another image = %v, want ErrAlreadyExists", err)
	}
	if err := s.Keep(ctx, "old-rep-0.2", "example.com/gone:1", "sha256:"+strings.Repeat("0", 64)); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Keep of a manifest the store has not = %v, want ErrNotFound", err)
	}
	if err := s.Keep(ctx, "../x", "example.com/a:1", a.Digest); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Keep of a bad key = %v, want ErrInvalidArgument", err)
	}
	err = s.Remove(ctx, "example.com/a:1", false)
	if !errors.Is(err, runtime.ErrFailedPrecondition) || !strings.Contains(err.Error(), "web-rep-0.1") {
		t.Fatalf("Remove of a kept image = %v, want ErrFailedPrecondition naming web-rep-0.1", err)
	}
	if res, err := s.Prune(ctx); err != nil || len(res.Deleted) != 0 {
		t.Fatalf("Prune = %+v, %v; want nothing deleted", res, err)
	}
	if err := s.Release(ctx, "web-rep-0.1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "example.com/a:1", false); err != nil {
		t.Fatalf("Remove after Release = %v", err)
	}
}

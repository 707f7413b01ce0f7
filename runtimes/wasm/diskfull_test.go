package wasm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// A wasm host that cannot start because the disk of its root is full says
// so, rather than exiting with an empty reason.
func TestHostOnAFullDiskSaysSo(t *testing.T) {
	root := filepath.Join(t.TempDir(), "wasm")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	testutil.SmallDisk(t, root, 256<<10)
	rt, err := New(root, StoreModules(nil, filepath.Join(root, "modules")), hostCommand())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	f, err := os.Create(filepath.Join(root, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	for chunk := make([]byte, 4096); ; {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	err = rt.ensureHost(context.Background())
	if !errors.Is(err, runtime.ErrResourceExhausted) {
		t.Fatalf("starting the host on a full disk = %v, want resource exhausted saying the disk is full", err)
	}
	t.Logf("%v", err)
}

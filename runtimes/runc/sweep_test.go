package runc

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// A create the agent did not finish is undone by the next runtime on the
// root, at whatever step it stopped: the name is free again, and nothing of
// the container is left (no name, no directory, no mount, no shim).
func TestUnfinishedCreatesAreUndone(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	st := mustStore(t, filepath.Join(dir, "images"))
	state := filepath.Join(dir, "state")
	first, err := New(state, st, testShim())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Step: the shim reported the container created, the mark not yet
	// removed: a created (pending) container with its shim waiting.
	shimWaiting := cid("shimwaiting")
	if err := first.Create(ctx, shimWaiting, shSpec("x", "true")); err != nil {
		t.Fatal(err)
	}
	key, err := first.resolve(shimWaiting)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(first.dirOf(key), creatingFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var rec shimRecord
	if err := readJSON(filepath.Join(first.dirOf(key), shimFile), &rec); err != nil || !rec.alive() {
		t.Fatalf("the waiting shim: %+v, %v", rec, err)
	}
	// Step: the name and the directory made, nothing else.
	bare := cid("bare")
	bareKey := bare.String() + ".00000000"
	if err := os.MkdirAll(filepath.Join(first.dirOf(bareKey), "bundle"), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(first.dirOf(bareKey), creatingFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "containers", bareKey), first.nameLink(bare)); err != nil {
		t.Fatal(err)
	}
	// Step: a crash of the machine before the create's fsyncs: the
	// record is empty and the mark gone (neither was on disk yet).
	torn := cid("torn")
	if err := first.Create(ctx, torn, shSpec("x", "true")); err != nil {
		t.Fatal(err)
	}
	tornKey, err := first.resolve(torn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(first.dirOf(tornKey), metaFile), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	// Step: the directory made, the name not yet.
	orphanKey := "orphan-rep-0.11111111"
	if err := os.Mkdir(first.dirOf(orphanKey), 0o711); err != nil {
		t.Fatal(err)
	}
	// A finished create beside them stays.
	kept := cid("kept")
	if err := first.Create(ctx, kept, shSpec("x", "true")); err != nil {
		t.Fatal(err)
	}

	// The agent is killed; a new one starts on the root.
	second, err := New(state, st, testShim())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(t, second) })
	list, err := second.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != kept {
		t.Fatalf("after the restart the runtime lists %+v, want %s alone", list, kept)
	}
	for _, k := range []string{key, bareKey, orphanKey, tornKey} {
		if _, err := os.Stat(second.dirOf(k)); !os.IsNotExist(err) {
			t.Errorf("directory %s left: %v", k, err)
		}
	}
	if rec.alive() {
		t.Errorf("the waiting shim (pid %d) still runs", rec.PID)
	}
	for _, id := range []runtime.ContainerID{shimWaiting, bare, torn} {
		if _, err := os.Lstat(second.nameLink(id)); !os.IsNotExist(err) {
			t.Errorf("name %s still taken: %v", id, err)
		}
		if err := second.Create(ctx, id, shSpec("x", "true")); err != nil {
			t.Errorf("Create(%s) after the restart: %v", id, err)
		}
	}
}

package runc

import (
	"context"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/runtime"
)

// TestPullAndRun pulls busybox from a registry on 127.0.0.1 through the
// node's image service and runs it from the same store.
func TestPullAndRun(t *testing.T) {
	rt := newTestRuntime(t)
	is := registry.NewImageService(rt.store.(*images.Store))
	ctx := context.Background()
	host := testimages.Serve(t)
	ref := testimages.Push(t, host, "busybox", testimages.Busybox(t))
	info, err := is.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullAlways})
	if err != nil {
		t.Fatal(err)
	}
	if info.Digest == "" {
		t.Errorf("Pull = %+v, want a digest", info)
	}
	list, err := is.ListImages(ctx)
	if err != nil || len(list) < 2 {
		t.Errorf("ListImages = %+v, %v; want the pulled image beside the test one", list, err)
	}
	id := cid("pulled")
	svc := shSpec("pulled", "echo pulled")
	svc.Image = ref
	mustRun(t, rt, id, svc)
	if o := mustWait(t, rt, id); o.ExitCode != 0 {
		t.Errorf("outcome %+v", o)
	}
	if got := logText(t, rt, id, runtime.Stdout); got != "pulled\n" {
		t.Errorf("stdout %q", got)
	}
	// The test image has the same content: drop that name, so ref is the
	// last one naming the image the container uses.
	if err := is.RemoveImage(ctx, busyboxRef, false); err != nil {
		t.Fatal(err)
	}
	if err := is.RemoveImage(ctx, ref, false); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Errorf("RemoveImage of an image a container uses: %v, want failed precondition", err)
	}
	if err := rt.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := is.RemoveImage(ctx, ref, false); err != nil {
		t.Errorf("RemoveImage once the container is gone: %v", err)
	}
}

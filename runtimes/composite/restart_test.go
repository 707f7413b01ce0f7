package composite

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestRestartRebuildsRecords creates containers through one composite,
// throws it away, and drives them through a new one over the same runtimes,
// as a restarted agent does.
func TestRestartRebuildsRecords(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	ids := map[string]runtime.ContainerID{
		"runc":    {Service: "lin"},
		"wasm":    {Service: "mod", Replica: 2},
		"windows": {Service: "win"},
	}
	platformOf := map[string]*ocispec.Platform{
		"runc": nil, "wasm": {OS: "wasip1"}, "windows": {OS: "windows"},
	}
	for rt, id := range ids {
		if err := n.c.Create(ctx, id, svcSpec(id.Service, "x", platformOf[rt])); err != nil {
			t.Fatal(err)
		}
		if err := n.c.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	n.wasm.AddImage(runtime.ImageInfo{Reference: "index.docker.io/example/mod:1", Platforms: []ocispec.Platform{{OS: "wasi", Architecture: "wasm"}}})

	restarted := newNode(t, n.runc, n.wasm, n.win)
	for rt, id := range ids {
		if got, ok := restarted.c.RuntimeOf(id); !ok || got != rt {
			t.Errorf("after restart %s routes to %q, %v; want %s", id, got, ok, rt)
		}
		if err := restarted.c.Stop(ctx, id, time.Second); err != nil {
			t.Errorf("Stop(%s) after restart: %v", id, err)
		}
		if err := restarted.c.Remove(ctx, id, false); err != nil {
			t.Errorf("Remove(%s) after restart: %v", id, err)
		}
	}
	if got := restarted.c.cachedPlatforms("example/mod:1").all; len(got) != 1 || got[0].OS != "wasip1" {
		t.Errorf("image platforms after restart = %v, want wasip1/wasm from the store", got)
	}
	id := runtime.ContainerID{Service: "by-image"}
	if err := restarted.c.Create(ctx, id, svcSpec("by-image", "example/mod:1", nil)); err != nil {
		t.Fatal(err)
	}
	if got, _ := restarted.c.RuntimeOf(id); got != "wasm" {
		t.Errorf("routing by image after restart went to %q, want wasm", got)
	}
}

func TestRestartWithFailingList(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	id := runtime.ContainerID{Service: "win"}
	if err := n.c.Create(ctx, id, svcSpec("win", "x", &ocispec.Platform{OS: "windows"})); err != nil {
		t.Fatal(err)
	}
	n.win.FailOn("list", fmt.Errorf("delegate down: %w", runtime.ErrUnavailable))
	n.win.FailOn("listimages", fmt.Errorf("delegate down: %w", runtime.ErrUnavailable))
	restarted := newNode(t, n.runc, n.wasm, n.win)
	if _, ok := restarted.c.RuntimeOf(id); ok {
		t.Fatal("a record appeared from a runtime whose List failed")
	}
	if err := restarted.c.Start(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Start while the delegate is down = %v, want ErrNotFound", err)
	}
	n.win.FailOn("list", nil)
	if err := restarted.c.Start(ctx, id); err != nil {
		t.Fatalf("Start once the delegate is back (lazy retry): %v", err)
	}
	if got, _ := restarted.c.RuntimeOf(id); got != "windows" {
		t.Fatalf("routes to %q after the retry", got)
	}
	if restarted.c.unlisted.Load() {
		t.Error("the composite still thinks a runtime is unlisted")
	}
}

func TestRetryIntervalLimitsLists(t *testing.T) {
	runc := runtimetest.NewFake("runc")
	down := runtimetest.NewFake("remote")
	down.FailOn("list", errors.New("down"))
	c := mustNew(t, []runtime.Containers{runc, down}, WithListRetryInterval(time.Hour), WithLogger(testLogger(&testutil.SyncBuffer{})))
	for range 5 {
		if _, err := c.State(t.Context(), runtime.ContainerID{Service: "nope"}); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatal(err)
		}
	}
	lists := slices.DeleteFunc(down.Calls(), func(c runtimetest.Call) bool { return c.Method != "list" })
	if len(lists) != 2 {
		t.Fatalf("the down runtime was listed %d times, want 2 (New and one retry)", len(lists))
	}
}

func TestListHealsAndMerges(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	a := runtime.ContainerID{Service: "a"}
	w := runtime.ContainerID{Service: "w"}
	if err := n.c.Create(ctx, a, svcSpec("a", "x", nil)); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Create(ctx, w, svcSpec("w", "x", &ocispec.Platform{OS: "windows"})); err != nil {
		t.Fatal(err)
	}
	n.win.FailOn("list", errors.New("down"))
	restarted := newNode(t, n.runc, n.wasm, n.win)
	list, err := restarted.c.List(ctx)
	if err != nil {
		t.Fatalf("List with one failing runtime: %v", err)
	}
	if len(list) != 1 || list[0].ID != a || list[0].Runtime != "runc" {
		t.Fatalf("List = %+v, want just %s on runc", list, a)
	}
	n.win.FailOn("list", nil)
	list, err = restarted.c.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if got, _ := restarted.c.RuntimeOf(w); got != "windows" {
		t.Fatalf("List did not heal the record of %s: %q", w, got)
	}
	for _, f := range []*runtimetest.Fake{n.runc, n.wasm, n.win} {
		f.FailOn("list", fmt.Errorf("%s down", f.Name()))
	}
	if _, err := restarted.c.List(ctx); err == nil || err.Error() != "runc down" {
		t.Fatalf("List with all failing = %v, want the first error", err)
	}
}

// A runtime that cannot be asked (a delegate that is down) still has its
// containers listed, in an unknown state that says why.
func TestListShowsContainersOfAFailingRuntime(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	w := runtime.ContainerID{Service: "w"}
	if err := n.c.Create(ctx, w, svcSpec("w", "x", &ocispec.Platform{OS: "windows"})); err != nil {
		t.Fatal(err)
	}
	n.win.FailOn("list", fmt.Errorf("delegate win is unreachable: %w", runtime.ErrUnavailable))
	list, err := n.c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != w || list[0].Runtime != "windows" ||
		list[0].State.Status != runtime.StatusUnknown || !strings.Contains(list[0].State.Reason, "unreachable") {
		t.Fatalf("List = %+v, want %s in an unknown state saying why", list, w)
	}
}

func TestConflictingRecordsKeepFirst(t *testing.T) {
	a := runtimetest.NewFake("a")
	b := runtimetest.NewFake("b")
	id := runtime.ContainerID{Service: "same"}
	for _, f := range []*runtimetest.Fake{a, b} {
		if err := f.Create(t.Context(), id, svcSpec("same", "x", nil)); err != nil {
			t.Fatal(err)
		}
	}
	c := mustNew(t, []runtime.Containers{a, b}, WithLogger(testLogger(&testutil.SyncBuffer{})))
	if got, _ := c.RuntimeOf(id); got != "a" {
		t.Fatalf("RuntimeOf = %q, want the first runtime", got)
	}
}

// ListDetails lists every runtime's containers with what Inspect says of
// each, and shows a failing runtime's containers in an unknown state, as
// List does.
func TestListDetailsMergesAsList(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	a := runtime.ContainerID{Service: "a"}
	w := runtime.ContainerID{Service: "w"}
	if err := n.c.Create(ctx, a, svcSpec("a", "x", nil)); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Create(ctx, w, svcSpec("w", "x", &ocispec.Platform{OS: "windows"})); err != nil {
		t.Fatal(err)
	}
	ds, err := n.c.ListDetails(ctx)
	if err != nil || len(ds) != 2 {
		t.Fatalf("ListDetails = %+v, %v", ds, err)
	}
	for _, d := range ds {
		want, _ := n.c.Inspect(ctx, d.ID)
		if d.Runtime != want.Runtime || d.Image != want.Image || d.State != want.State {
			t.Errorf("ListDetails gave %+v for %s; Inspect gives %+v", d.Container, d.ID, want.Container)
		}
	}
	n.win.FailOn("list", fmt.Errorf("delegate win is unreachable: %w", runtime.ErrUnavailable))
	ds, err = n.c.ListDetails(ctx)
	if err != nil || len(ds) != 2 {
		t.Fatalf("ListDetails with a failing runtime = %+v, %v", ds, err)
	}
	for _, d := range ds {
		if d.ID == w && (d.State.Status != runtime.StatusUnknown || !strings.Contains(d.State.Reason, "unreachable")) {
			t.Fatalf("the failing runtime's container = %+v; want it unknown, saying why", d.Container)
		}
	}
}

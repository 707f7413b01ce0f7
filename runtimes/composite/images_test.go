package composite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func TestPullInspectsFirstAndPullsWhereItRuns(t *testing.T) {
	wasmP := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	winP := ocispec.Platform{OS: "windows", Architecture: "amd64"}
	for _, tc := range []struct {
		name     string
		inspect  []ocispec.Platform
		inspErr  error
		platform *ocispec.Platform
		want     map[string]bool // runtime name → pulled
		chosen   string
	}{
		{"linux image: runc only", []ocispec.Platform{plat("linux/amd64")}, nil, nil, map[string]bool{"runc": true}, "runc"},
		{"wasm image: wasm only", []ocispec.Platform{wasmP}, nil, nil, map[string]bool{"wasm": true}, "wasm"},
		{"index of linux and wasm: both", []ocispec.Platform{plat("linux/arm64"), wasmP}, nil, nil, map[string]bool{"runc": true, "wasm": true}, "runc"},
		{"index of windows and wasm: both, wasm chosen", []ocispec.Platform{winP, wasmP}, nil, nil, map[string]bool{"wasm": true, "windows": true}, "wasm"},
		{"unknown: primary", nil, nil, nil, map[string]bool{"runc": true}, "runc"},
		{"inspection fails: primary", nil, errors.New("registry down"), nil, map[string]bool{"runc": true}, "runc"},
		{"platform asked: first serving it", []ocispec.Platform{plat("linux/amd64"), winP}, nil, &winP, map[string]bool{"windows": true}, "windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			n.inspector.set("example/app:1", tc.inspect...)
			n.inspector.fail(tc.inspErr)
			info, err := n.c.Pull(t.Context(), "example/app:1", runtime.PullOptions{Policy: runtime.PullAlways, Platform: tc.platform})
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if len(n.inspector.calls) != 1 {
				t.Errorf("inspector calls = %v, want one", n.inspector.calls)
			}
			for _, f := range []*runtimetest.Fake{n.runc, n.wasm, n.win} {
				if pulled := len(pulls(f)) > 0; pulled != tc.want[f.Name()] {
					t.Errorf("pulled on %s = %v, want %v", f.Name(), pulled, tc.want[f.Name()])
				}
			}
			if len(info.Runtimes) == 0 || info.Runtimes[0] != tc.chosen || len(info.Runtimes) != len(tc.want) {
				t.Errorf("info.Runtimes = %v, want %d runtimes starting with %s", info.Runtimes, len(tc.want), tc.chosen)
			}
		})
	}
}

// if_not_present does not contact the registry for an image whose platforms
// an earlier pull recorded; always does.
func TestPullIfNotPresentUsesKnownPlatforms(t *testing.T) {
	n := newNode(t)
	n.inspector.set("example/app:1", plat("linux/amd64"))
	for i, policy := range []runtime.PullPolicy{runtime.PullIfNotPresent, runtime.PullIfNotPresent, "", runtime.PullAlways} {
		if _, err := n.c.Pull(t.Context(), "example/app:1", runtime.PullOptions{Policy: policy}); err != nil {
			t.Fatalf("Pull %d (%q): %v", i, policy, err)
		}
	}
	if len(n.inspector.calls) != 2 {
		t.Errorf("inspector calls = %v, want two: the first pull and the always pull", n.inspector.calls)
	}
}

func TestPullKnownButUnserved(t *testing.T) {
	runc, wasm, _ := newFakes()
	n := newNode(t, runc, wasm)
	n.inspector.set("example/win:1", ocispec.Platform{OS: "windows", Architecture: "amd64"})
	_, err := n.c.Pull(t.Context(), "example/win:1", runtime.PullOptions{})
	wantRouteToPeer(t, err, "", "windows/amd64", "example/win:1", "enable windows/amd64 here")
	if len(pulls(runc))+len(pulls(wasm)) != 0 {
		t.Error("an unservable image was pulled")
	}
	// A platform asked for explicitly that no runtime serves, likewise.
	_, err = n.c.Pull(t.Context(), "example/x:1", runtime.PullOptions{Platform: &ocispec.Platform{OS: "windows"}})
	wantRouteToPeer(t, err, "", "windows", "example/x:1", "enable windows here")
}

func TestPullFailures(t *testing.T) {
	wasmP := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	n := newNode(t)
	n.inspector.set("example/both:1", plat("linux/amd64"), wasmP)
	n.wasm.FailOn("pull", fmt.Errorf("no wasm layer: %w", runtime.ErrNotFound))
	info, err := n.c.Pull(t.Context(), "example/both:1", runtime.PullOptions{})
	if err != nil {
		t.Fatalf("a failing pull on a non-chosen runtime failed the call: %v", err)
	}
	if !slices.Equal(info.Runtimes, []string{"runc"}) {
		t.Errorf("info.Runtimes = %v, want just runc", info.Runtimes)
	}
	if !strings.Contains(n.log.String(), "pull failed") {
		t.Errorf("the failing pull was not logged: %s", n.log)
	}
	n.runc.FailOn("pull", fmt.Errorf("disk full: %w", runtime.ErrUnavailable))
	if _, err := n.c.Pull(t.Context(), "example/both:1", runtime.PullOptions{}); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("a failing pull on the chosen runtime = %v, want its error", err)
	}
	if _, err := n.c.Pull(t.Context(), "", runtime.PullOptions{}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("Pull(\"\") = %v, want ErrInvalidArgument", err)
	}
}

func TestPullPolicyPassesThrough(t *testing.T) {
	for _, policy := range []runtime.PullPolicy{runtime.PullIfNotPresent, runtime.PullAlways, runtime.PullNever} {
		t.Run(string(policy), func(t *testing.T) {
			n := newNode(t)
			n.runc.AddImage(runtime.ImageInfo{Reference: "example/app:1", Digest: "sha256:aa"})
			if _, err := n.c.Pull(t.Context(), "example/app:1", runtime.PullOptions{Policy: policy}); err != nil {
				t.Fatalf("Pull: %v", err)
			}
			calls := n.runc.Calls()
			if len(calls) != 1 || calls[0].Policy != policy {
				t.Fatalf("calls = %+v, want one pull with policy %s", calls, policy)
			}
			inspected := len(n.inspector.calls) > 0
			if inspected != (policy != runtime.PullNever) {
				t.Fatalf("inspected = %v with policy %s; never must not contact the registry", inspected, policy)
			}
		})
	}
}

func TestFailedInspectionLeavesCacheAsItWas(t *testing.T) {
	wasmP := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	for _, tc := range []struct {
		name    string
		answer  []ocispec.Platform
		err     error
		cached  bool
		wantRun string
	}{
		{"no platform, nothing cached", nil, nil, false, "runc"},
		{"error, nothing cached", nil, errors.New("timeout"), false, "runc"},
		{"no platform, wasm cached", nil, nil, true, "wasm"},
		{"error, wasm cached", nil, errors.New("401"), true, "wasm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runc, wasm, win := newFakes()
			if tc.cached {
				// What a store recorded before a restart.
				wasm.AddImage(runtime.ImageInfo{Reference: imageKey("example/app:1"), Platforms: []ocispec.Platform{wasmP}})
			}
			n := newNode(t, runc, wasm, win)
			n.runc, n.wasm, n.win = runc, wasm, win
			n.inspector.set("example/app:1", tc.answer...)
			n.inspector.fail(tc.err)
			if _, err := n.c.Pull(t.Context(), "example/app:1", runtime.PullOptions{}); err != nil {
				t.Fatalf("Pull failed because of the inspection: %v", err)
			}
			// What was known stays; what the pull stored is added.
			if got := formatAll(n.c.cachedPlatforms("example/app:1").all); tc.cached && got != "wasip1/wasm" || !tc.cached && got != "linux/amd64" {
				t.Fatalf("cached platforms = %s after the pull", got)
			}
			if got := pulls(n.wasm); tc.cached != (len(got) == 1) {
				t.Errorf("wasm pulls = %v", got)
			}
			id := runtime.ContainerID{Service: "svc"}
			if err := n.c.Create(t.Context(), id, svcSpec("svc", "example/app:1", nil)); err != nil {
				t.Fatal(err)
			}
			if got, _ := n.c.RuntimeOf(id); got != tc.wantRun {
				t.Fatalf("routed to %q, want %q", got, tc.wantRun)
			}
		})
	}
}

func TestPullWithoutInspector(t *testing.T) {
	runc, wasm, _ := newFakes()
	c := mustNew(t, []runtime.Containers{runc, wasm})
	info, err := c.Pull(t.Context(), "example/app:1", runtime.PullOptions{})
	if err != nil || len(info.Platforms) == 0 {
		t.Fatalf("Pull = %+v, %v", info, err)
	}
	if len(pulls(runc)) != 1 || len(pulls(wasm)) != 0 {
		t.Fatalf("pulled on runc %v, wasm %v; want the primary only", pulls(runc), pulls(wasm))
	}
}

// Local runtimes share one store, so each lists every image; the merged
// list names only the runtimes that can run an image.
func TestListImagesNamesRuntimesThatCanRunIt(t *testing.T) {
	runc, wasm, win := newFakes()
	n := newNode(t, runc, wasm, win)
	linux := runtime.ImageInfo{Reference: "example/linux:1", Digest: "sha256:11", Platforms: []ocispec.Platform{plat("linux/amd64")}}
	module := runtime.ImageInfo{Reference: "example/module:1", Digest: "sha256:22", Platforms: []ocispec.Platform{plat("wasip1/wasm")}}
	unknown := runtime.ImageInfo{Reference: "example/unknown:1", Digest: "sha256:33"}
	arm := runtime.ImageInfo{Reference: "example/arm:1", Digest: "sha256:44", Platforms: []ocispec.Platform{plat("linux/riscv64")}}
	for _, f := range []*runtimetest.Fake{runc, wasm} {
		for _, img := range []runtime.ImageInfo{linux, module, unknown, arm} {
			f.AddImage(img)
		}
	}
	imgs, err := n.c.ListImages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"example/linux:1":   {"runc"},
		"example/module:1":  {"wasm"},
		"example/unknown:1": {"runc", "wasm"},
		"example/arm:1":     {"runc", "wasm"}, // nobody serves it: every runtime that has it
	}
	for _, img := range imgs {
		if !slices.Equal(img.Runtimes, want[img.Reference]) {
			t.Errorf("%s: runtimes %v, want %v", img.Reference, img.Runtimes, want[img.Reference])
		}
	}
}

func TestListImagesMerges(t *testing.T) {
	wasmP := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	runc, wasm, win := newFakes()
	broken := runtimetest.NewFake("broken")
	n := newNode(t, runc, broken, wasm, win)
	shared := runtime.ImageInfo{Reference: "example/multi:1", Digest: "sha256:11", Platforms: []ocispec.Platform{plat("linux/amd64")}}
	runc.AddImage(shared)
	runc.AddImage(runtime.ImageInfo{Reference: "example/only-runc:1", Digest: "sha256:22"})
	shared.Platforms = []ocispec.Platform{wasmP, plat("linux/amd64")}
	wasm.AddImage(shared)
	win.AddImage(runtime.ImageInfo{Reference: "example/multi:1", Digest: "sha256:33"}) // same tag, other content
	broken.FailOn("listimages", fmt.Errorf("delegate down: %w", runtime.ErrUnavailable))

	imgs, err := n.c.ListImages(t.Context())
	if err != nil {
		t.Fatalf("ListImages with one failing runtime: %v", err)
	}
	if len(imgs) != 3 {
		t.Fatalf("got %d images, want 3: %+v", len(imgs), imgs)
	}
	m := imgs[0]
	if m.Reference != "example/multi:1" || m.Digest != "sha256:11" {
		t.Fatalf("first image = %+v", m)
	}
	if got := formatAll(m.Platforms); got != "linux/amd64, wasip1/wasm" {
		t.Errorf("merged platforms = %s", got)
	}
	if !slices.Equal(m.Runtimes, []string{"runc", "wasm"}) {
		t.Errorf("merged runtimes = %v", m.Runtimes)
	}
	if !slices.Equal(imgs[2].Runtimes, []string{"windows"}) || imgs[2].Digest != "sha256:33" {
		t.Errorf("the same tag with another digest was merged: %+v", imgs[2])
	}
	if !strings.Contains(n.log.String(), "delegate down") {
		t.Errorf("the failing runtime was not logged: %s", n.log)
	}

	runc.FailOn("listimages", errors.New("first"))
	wasm.FailOn("listimages", errors.New("second"))
	win.FailOn("listimages", errors.New("third"))
	if _, err := n.c.ListImages(t.Context()); err == nil || err.Error() != "first" {
		t.Fatalf("ListImages with all failing = %v, want the first runtime's error", err)
	}
}

func TestPruneImagesMerges(t *testing.T) {
	n := newNode(t)
	n.runc.AddImage(runtime.ImageInfo{Reference: "a", Size: math.MaxInt64})
	n.runc.AddImage(runtime.ImageInfo{Reference: "shared", Size: 1})
	n.wasm.AddImage(runtime.ImageInfo{Reference: "b", Size: math.MaxInt64})
	n.wasm.AddImage(runtime.ImageInfo{Reference: "shared", Size: 1})
	n.win.AddImage(runtime.ImageInfo{Reference: "c", Size: math.MaxInt64})
	res, err := n.c.PruneImages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.SpaceReclaimed != math.MaxUint64 {
		t.Errorf("SpaceReclaimed = %d, want saturation at MaxUint64", res.SpaceReclaimed)
	}
	if want := []string{"a", "shared", "b", "c"}; !slices.Equal(res.Deleted, want) {
		t.Errorf("Deleted = %v, want %v", res.Deleted, want)
	}

	n.wasm.FailOn("pruneimages", errors.New("wasm prune failed"))
	n.runc.AddImage(runtime.ImageInfo{Reference: "d", Size: 5})
	res, err = n.c.PruneImages(t.Context())
	if err != nil || res.SpaceReclaimed != 5 || !slices.Equal(res.Deleted, []string{"d"}) {
		t.Fatalf("PruneImages with one failing = %+v, %v", res, err)
	}
	n.runc.FailOn("pruneimages", errors.New("first"))
	n.win.FailOn("pruneimages", fmt.Errorf("x: %w", runtime.ErrNotSupported))
	if _, err := n.c.PruneImages(t.Context()); err == nil || err.Error() != "first" {
		t.Fatalf("PruneImages with all failing = %v, want the first runtime's error", err)
	}
}

func TestAddSaturating(t *testing.T) {
	for _, tc := range []struct{ a, b, want uint64 }{
		{0, 0, 0}, {1, 2, 3}, {math.MaxUint64, 0, math.MaxUint64}, {math.MaxUint64, 1, math.MaxUint64},
		{math.MaxUint64 - 1, 1, math.MaxUint64}, {math.MaxUint64 / 2, math.MaxUint64/2 + 2, math.MaxUint64},
	} {
		if got := addSaturating(tc.a, tc.b); got != tc.want {
			t.Errorf("addSaturating(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRemoveAndTagImageFallBack(t *testing.T) {
	for _, op := range []string{"removeimage", "tagimage"} {
		call := func(n *node) error {
			if op == "removeimage" {
				return n.c.RemoveImage(t.Context(), "example/app:1", false)
			}
			return n.c.TagImage(t.Context(), "example/app:1", "example/app:2")
		}
		t.Run(op+" on the second runtime", func(t *testing.T) {
			n := newNode(t)
			n.wasm.AddImage(runtime.ImageInfo{Reference: "example/app:1"})
			if err := call(n); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			if len(n.win.Calls()) != 0 {
				t.Errorf("the runtime after the first success was called: %v", n.win.Calls())
			}
		})
		t.Run(op+" all fail: first error", func(t *testing.T) {
			n := newNode(t)
			n.wasm.FailOn(op, errors.New("wasm error"))
			err := call(n)
			if !errors.Is(err, runtime.ErrNotFound) || !strings.Contains(err.Error(), "example/app:1") {
				t.Fatalf("%s = %v, want the primary's not-found error", op, err)
			}
			for _, f := range []*runtimetest.Fake{n.runc, n.wasm, n.win} {
				if len(f.Calls()) != 1 {
					t.Errorf("%s calls = %v, want one", f.Name(), f.Calls())
				}
			}
		})
	}
}

// reclaimingFake is a fake that keeps something derived from images.
type reclaimingFake struct {
	*runtimetest.Fake
	calls int
	freed uint64
	err   error
}

func (f *reclaimingFake) ReclaimImages(context.Context) (runtime.PruneResult, error) {
	f.calls++
	return runtime.PruneResult{Deleted: []string{}, SpaceReclaimed: f.freed}, f.err
}

// After an image removal or a prune, each runtime that keeps what it
// derived from images is asked to drop what belonged to images now gone;
// a prune counts what it freed, and a runtime that fails to reclaim does
// not fail the removal.
func TestImageRemovalReclaimsDerived(t *testing.T) {
	runc, wasm, _ := newFakes()
	rec := &reclaimingFake{Fake: wasm, freed: 1000}
	c := mustNew(t, []runtime.Containers{runc, rec}, WithListRetryInterval(0))
	ctx := t.Context()
	if _, err := c.Pull(ctx, "example/app:1", runtime.PullOptions{Policy: runtime.PullAlways}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveImage(ctx, "example/app:1", false); err != nil {
		t.Fatal(err)
	}
	if rec.calls != 1 {
		t.Fatalf("reclaim calls after a removal = %d, want 1", rec.calls)
	}
	if err := c.RemoveImage(ctx, "example/absent:1", false); err == nil || rec.calls != 1 {
		t.Fatalf("a failed removal: %v, reclaim calls %d; want an error and no reclaim", err, rec.calls)
	}
	before, err := c.PruneImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rec.calls != 2 || before.SpaceReclaimed < 1000 {
		t.Fatalf("prune: %+v, reclaim calls %d; want the runtime's 1000 bytes counted", before, rec.calls)
	}
	rec.err = errors.New("disk trouble")
	if _, err := c.PruneImages(ctx); err != nil {
		t.Fatalf("prune with a failing reclaim: %v", err)
	}
}

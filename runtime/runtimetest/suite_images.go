package runtimetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// ImageHarness is what an image service supplies to run RunImages.
type ImageHarness struct {
	// New returns a fresh world for one test; it registers its own cleanup
	// with t.Cleanup. Required.
	New func(t *testing.T) ImageWorld
}

// ImageWorld is one test's image service and the images it can pull.
type ImageWorld struct {
	// Images is the service under test.
	Images runtime.ImageService
	// Linux is a single manifest for Host, in a registry Images reaches.
	Linux string
	// Wasm is a single WebAssembly manifest (wasip1/wasm).
	Wasm string
	// Multi is an index of the manifest Linux names, the manifest Wasm
	// names and a windows/amd64 entry that nothing here runs.
	Multi string
	// Host is the Linux platform of Linux.
	Host ocispec.Platform
	// Use records that a container named key uses ref's manifest for
	// platform p, as a runtime's create does, and returns the release; nil
	// skips the tests of images in use.
	Use func(t *testing.T, key, ref string, p ocispec.Platform) (release func())
}

// wasmPlatform is the platform of wasm modules.
func wasmPlatform() ocispec.Platform { return ocispec.Platform{OS: "wasip1", Architecture: "wasm"} }

// RunImages runs the ImageService conformance suite: pull with each policy
// and bad input; list, tag and remove; removal of an image in use, refused
// without force and keeping the content with it; prune; and references to
// multi-platform indexes, which keep every platform of the index under the
// one reference and never change what another reference reports.
func RunImages(t *testing.T, h ImageHarness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("runtimetest.RunImages: ImageHarness.New is required")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, w ImageWorld)
	}{
		{"PullPolicies", testPullPolicies},
		{"PullBadInput", testPullBadInput},
		{"ListAndTag", testListAndTag},
		{"Remove", testRemoveImage},
		{"RemoveInUse", testRemoveInUse},
		{"Prune", testPrune},
		{"MultiPlatform", testMultiPlatform},
		{"SharedManifest", testSharedManifest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h.New(t)) })
	}
}

func mustPull(t *testing.T, w ImageWorld, ref string, opts runtime.PullOptions) runtime.ImageInfo {
	t.Helper()
	info, err := w.Images.Pull(t.Context(), ref, opts)
	if err != nil {
		t.Fatalf("Pull(%s, %+v): %v", ref, opts, err)
	}
	return info
}

func listed(t *testing.T, w ImageWorld, ref string) (runtime.ImageInfo, bool) {
	t.Helper()
	list, err := w.Images.ListImages(t.Context())
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	for _, img := range list {
		if img.Reference == ref {
			return img, true
		}
	}
	return runtime.ImageInfo{}, false
}

func hasPlatform(ps []ocispec.Platform, p ocispec.Platform) bool {
	return slices.ContainsFunc(ps, func(q ocispec.Platform) bool {
		return platforms.Only(p).Match(runtime.NormalizePlatform(q))
	})
}

func testPullPolicies(t *testing.T, w ImageWorld) {
	if _, err := w.Images.Pull(t.Context(), w.Linux, runtime.PullOptions{Policy: runtime.PullNever}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("never, absent: %v, want ErrNotFound", err)
	}
	first := mustPull(t, w, w.Linux, runtime.PullOptions{Policy: runtime.PullIfNotPresent})
	if first.Digest == "" || first.Reference != w.Linux || !hasPlatform(first.Platforms, w.Host) {
		t.Fatalf("if_not_present, absent = %+v: want %s with a digest and platform %s", first, w.Linux, runtime.FormatPlatform(w.Host))
	}
	for _, p := range []runtime.PullPolicy{runtime.PullIfNotPresent, "", runtime.PullNever, runtime.PullAlways} {
		if got := mustPull(t, w, w.Linux, runtime.PullOptions{Policy: p}); got.Digest != first.Digest {
			t.Errorf("policy %q, present: digest %s, want %s", p, got.Digest, first.Digest)
		}
	}
}

func testPullBadInput(t *testing.T, w ImageWorld) {
	for _, tc := range []struct {
		name, ref string
		opts      runtime.PullOptions
	}{
		{"empty reference", "", runtime.PullOptions{}},
		{"malformed reference", "Not A Reference!", runtime.PullOptions{}},
		{"unknown policy", w.Linux, runtime.PullOptions{Policy: "sometimes"}},
	} {
		if _, err := w.Images.Pull(t.Context(), tc.ref, tc.opts); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", tc.name, err)
		}
	}
}

const taggedRef = "example.com/conformance/tagged:1"

func testListAndTag(t *testing.T, w ImageWorld) {
	info := mustPull(t, w, w.Linux, runtime.PullOptions{})
	if err := w.Images.TagImage(t.Context(), w.Linux, taggedRef); err != nil {
		t.Fatalf("TagImage: %v", err)
	}
	got, ok := listed(t, w, taggedRef)
	if !ok || got.Digest != info.Digest {
		t.Fatalf("the tag is listed %v with digest %s, want %s", ok, got.Digest, info.Digest)
	}
	if _, ok := listed(t, w, w.Linux); !ok {
		t.Errorf("the source reference is no longer listed")
	}
	if err := w.Images.TagImage(t.Context(), "example.com/conformance/absent:1", taggedRef); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("TagImage of an absent source: %v, want ErrNotFound", err)
	}
}

func testRemoveImage(t *testing.T, w ImageWorld) {
	if err := w.Images.RemoveImage(t.Context(), "example.com/conformance/absent:1", false); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("RemoveImage of an absent image: %v, want ErrNotFound", err)
	}
	mustPull(t, w, w.Linux, runtime.PullOptions{})
	if err := w.Images.TagImage(t.Context(), w.Linux, taggedRef); err != nil {
		t.Fatal(err)
	}
	if err := w.Images.RemoveImage(t.Context(), taggedRef, false); err != nil {
		t.Fatalf("RemoveImage of one of two names: %v", err)
	}
	if _, ok := listed(t, w, taggedRef); ok {
		t.Errorf("the removed reference is still listed")
	}
	if _, ok := listed(t, w, w.Linux); !ok {
		t.Errorf("removing one name removed the other")
	}
}

func testRemoveInUse(t *testing.T, w ImageWorld) {
	if w.Use == nil {
		t.Skip("the harness cannot mark an image in use")
	}
	mustPull(t, w, w.Multi, runtime.PullOptions{})
	release := w.Use(t, "conformance-rep-0", w.Multi, w.Host)
	err := w.Images.RemoveImage(t.Context(), w.Multi, false)
	if !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("RemoveImage of the last name of an image in use: %v, want ErrFailedPrecondition", err)
	}
	if err := w.Images.RemoveImage(t.Context(), w.Multi, true); err != nil {
		t.Fatalf("forced RemoveImage: %v", err)
	}
	if _, ok := listed(t, w, w.Multi); ok {
		t.Errorf("a forced removal left the reference listed")
	}
	// What the container uses survives a prune while it is in use (the
	// forced removal and this prune take it otherwise, and the next prune
	// finds nothing to reclaim)...
	if _, err := w.Images.PruneImages(t.Context()); err != nil {
		t.Fatal(err)
	}
	release()
	// ...and goes with the next prune once released.
	res, err := w.Images.PruneImages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.SpaceReclaimed == 0 || len(res.Deleted) == 0 {
		t.Errorf("prune after the release = %+v, want the container's content reclaimed", res)
	}
}

func testPrune(t *testing.T, w ImageWorld) {
	mustPull(t, w, w.Linux, runtime.PullOptions{})
	res, err := w.Images.PruneImages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted == nil {
		t.Errorf("PruneImages with nothing to prune: Deleted is nil, want empty")
	}
	if _, ok := listed(t, w, w.Linux); !ok {
		t.Fatalf("prune removed a named image")
	}
	if err := w.Images.RemoveImage(t.Context(), w.Linux, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Images.PruneImages(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Images.Pull(t.Context(), w.Linux, runtime.PullOptions{Policy: runtime.PullNever}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("after remove and prune, pull never = %v, want ErrNotFound", err)
	}
}

func testMultiPlatform(t *testing.T, w ImageWorld) {
	info := mustPull(t, w, w.Multi, runtime.PullOptions{Platform: &w.Host})
	for _, p := range []ocispec.Platform{w.Host, wasmPlatform(), {OS: "windows", Architecture: "amd64"}} {
		if !hasPlatform(info.Platforms, p) {
			t.Errorf("Multi lists %v, want every platform of its index, %s among them", info.Platforms, runtime.FormatPlatform(p))
		}
	}
	if present := info.PresentPlatforms(); !hasPlatform(present, w.Host) || hasPlatform(present, wasmPlatform()) ||
		hasPlatform(present, ocispec.Platform{OS: "windows", Architecture: "amd64"}) {
		t.Errorf("present after a pull for %s alone: %v, want that platform only", runtime.FormatPlatform(w.Host), present)
	}
	// The other platform comes under the same reference.
	wasm := wasmPlatform()
	mustPull(t, w, w.Multi, runtime.PullOptions{Platform: &wasm})
	got, ok := listed(t, w, w.Multi)
	if !ok || !hasPlatform(got.PresentPlatforms(), w.Host) || !hasPlatform(got.PresentPlatforms(), wasm) {
		t.Errorf("after pulls for %s and wasm, present %v (listed %v)", runtime.FormatPlatform(w.Host), got.PresentPlatforms(), ok)
	}
	// A platform the index lacks, and a single manifest of another
	// platform, are refused.
	arm := ocispec.Platform{OS: "linux", Architecture: "s390x"}
	if _, err := w.Images.Pull(t.Context(), w.Multi, runtime.PullOptions{Platform: &arm}); err == nil {
		t.Errorf("Pull of a platform the index lacks succeeded")
	}
	if _, err := w.Images.Pull(t.Context(), w.Wasm, runtime.PullOptions{Platform: &w.Host, Policy: runtime.PullAlways}); err == nil {
		t.Errorf("Pull of a wasm manifest for %s succeeded", runtime.FormatPlatform(w.Host))
	}
}

func testSharedManifest(t *testing.T, w ImageWorld) {
	mustPull(t, w, w.Linux, runtime.PullOptions{})
	wasm := wasmPlatform()
	mustPull(t, w, w.Wasm, runtime.PullOptions{Platform: &wasm})
	mustPull(t, w, w.Multi, runtime.PullOptions{Policy: runtime.PullAlways})
	for ref, want := range map[string]ocispec.Platform{w.Linux: w.Host, w.Wasm: wasm} {
		got, ok := listed(t, w, ref)
		if !ok || len(got.Platforms) != 1 || !hasPlatform(got.Platforms, want) {
			t.Errorf("%s reports %v after a pull of an index sharing its manifest, want %s alone", ref, got.Platforms, runtime.FormatPlatform(want))
		}
	}
}

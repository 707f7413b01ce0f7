package images

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/switchyard/switchyard/runtime"
)

// TestAnnotationsAreKept: the annotations of a manifest and of an index
// (which may name the runtime that must run the image) reach Info.
func TestAnnotationsAreKept(t *testing.T) {
	s := newStore(t)
	img := mutate.Annotations(mustBusybox(t), map[string]string{runtime.AnnotationRuntime: "runc"}).(v1.Image)
	mustWrite(t, s, "example.com/annotated:1", img)
	if got := mustGet(t, s, "example.com/annotated:1").Info().Annotations[runtime.AnnotationRuntime]; got != "runc" {
		t.Errorf("manifest annotation = %q, want runc", got)
	}
	linux := platformImage(t, linuxAMD64, "linux")
	idx := mutate.Annotations(index(t, entry{linux, linuxAMD64}), map[string]string{runtime.AnnotationZLayerRuntime: "vz"}).(v1.ImageIndex)
	if _, err := s.WriteIndex(context.Background(), "example.com/multi:1", idx, []v1.Hash{digestOfImage(t, linux)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "example.com/multi:1").Info().Annotations[runtime.AnnotationZLayerRuntime]; got != "vz" {
		t.Errorf("index annotation = %q, want vz", got)
	}
}

package remote_test

import (
	"testing"

	"github.com/switchyard/switchyard/internal/imagetest"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestImageConformance holds the remote runtime to the ImageService
// contract: a delegate's images, reached over its API.
func TestImageConformance(t *testing.T) {
	runtimetest.RunImages(t, runtimetest.ImageHarness{
		New: func(t *testing.T) runtimetest.ImageWorld {
			w := imagetest.New(t)
			a := mustUnixAgent(t, imagetest.Node(t, w))
			w.Images = mustRemote(t, "vm", a.url())
			return w.ImageWorld
		},
	})
}

package composite_test

import (
	"testing"

	"github.com/switchyard/switchyard/internal/imagetest"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestImageConformance holds the composite over local runtimes and the
// node's image service to the ImageService contract.
func TestImageConformance(t *testing.T) {
	runtimetest.RunImages(t, runtimetest.ImageHarness{
		New: func(t *testing.T) runtimetest.ImageWorld {
			w := imagetest.New(t)
			node := imagetest.Node(t, w)
			w.Images = node
			return w.ImageWorld
		},
	})
}

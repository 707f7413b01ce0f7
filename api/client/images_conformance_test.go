package client_test

import (
	"testing"

	"github.com/switchyard/switchyard/internal/imagetest"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestImageConformance holds the client to the ImageService contract
// through the whole wire: client → unix socket → server → the node's
// composite and image service.
func TestImageConformance(t *testing.T) {
	runtimetest.RunImages(t, runtimetest.ImageHarness{
		New: func(t *testing.T) runtimetest.ImageWorld {
			w := imagetest.New(t)
			w.Images = mustClient(t, mustServe(t, imagetest.Node(t, w)))
			return w.ImageWorld
		},
	})
}

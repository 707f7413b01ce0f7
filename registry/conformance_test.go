package registry_test

import (
	"testing"

	"github.com/switchyard/switchyard/internal/imagetest"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestImageConformance holds the node's image service to the contract.
func TestImageConformance(t *testing.T) {
	runtimetest.RunImages(t, runtimetest.ImageHarness{
		New: func(t *testing.T) runtimetest.ImageWorld { return imagetest.New(t).ImageWorld },
	})
}

package agent

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// daemonRemedy is the composite's remedy hook for a node the switchyard
// daemon assembles: it names the daemon's flags that give this node a
// runtime for p.
func daemonRemedy(p ocispec.Platform) string {
	switch p.OS {
	case "linux":
		return `"switchyard daemon --runtimes runc" runs linux containers on this node, or "--delegate NAME=ADDRESS" hands them to an agent (in a VM or WSL2) that serves ` + runtime.FormatPlatform(p)
	case "wasip1":
		return `"switchyard daemon --runtimes wasm" runs WebAssembly modules on this node`
	}
	return `"switchyard daemon --delegate NAME=ADDRESS" hands ` + runtime.FormatPlatform(p) + ` workloads to an agent on a machine that serves them`
}

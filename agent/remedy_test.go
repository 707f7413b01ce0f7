package agent

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The daemon's remedy names the flag that gives the node a runtime for the
// platform.
func TestDaemonRemedy(t *testing.T) {
	for _, tc := range []struct {
		p    ocispec.Platform
		flag string
	}{
		{ocispec.Platform{OS: "linux", Architecture: "amd64"}, "--runtimes runc"},
		{ocispec.Platform{OS: "wasip1", Architecture: "wasm"}, "--runtimes wasm"},
		{ocispec.Platform{OS: "windows", Architecture: "amd64"}, "--delegate NAME=ADDRESS"},
		{ocispec.Platform{OS: "darwin", Architecture: "arm64"}, "--delegate NAME=ADDRESS"},
	} {
		if got := daemonRemedy(tc.p); !strings.Contains(got, tc.flag) || !strings.Contains(got, "switchyard daemon") {
			t.Errorf("remedy for %v = %q, want it to name %q", tc.p, got, tc.flag)
		}
	}
}

package runtime

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the contract a leaf: package runtime may import
// only the standard library's non-network packages, spec, and the OCI and
// platform types.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found; cannot list dependencies")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list -deps failed (a neighbouring package may be mid-edit): %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"net/http", "github.com/spf13/cobra", "github.com/switchyard/switchyard/runtimes", "github.com/switchyard/switchyard/images", "github.com/switchyard/switchyard/registry", "github.com/switchyard/switchyard/api", "github.com/switchyard/switchyard/agent"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("package runtime depends on %s; the contract must stay a leaf", dep)
			}
		}
	}
}

package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/switchyard/switchyard"

// deps lists every package pkg depends on, transitively.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLayering(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string // import path prefixes
	}{
		// The deployment spec sits above the contract: it converts into the
		// contract's create request, and nothing below it knows the YAML.
		{"spec", []string{module + "/runtimes", module + "/api", module + "/agent", module + "/images", module + "/registry", "net/http", "github.com/spf13/cobra"}},
		{"runtime", []string{module + "/spec", module + "/runtimes", module + "/api", module + "/agent", module + "/images", module + "/registry", "net/http", "github.com/spf13/cobra"}},
		{"runtimes/composite", []string{module + "/spec", module + "/runtimes/runc", module + "/runtimes/wasm", module + "/api", module + "/agent", "github.com/spf13/cobra"}},
		{"images", []string{module + "/spec", module + "/runtimes", module + "/api", module + "/agent", module + "/registry", "github.com/spf13/cobra"}},
		{"registry", []string{module + "/spec", module + "/runtimes", module + "/api", module + "/agent", "github.com/spf13/cobra"}},
		// Networks sit beside the image store: runtimes attach to them.
		{"secrets", []string{module + "/spec", module + "/runtimes", module + "/api", module + "/agent", module + "/images", module + "/registry", module + "/network", "net/http", "github.com/spf13/cobra"}},
		// Named volumes are directories the local runtimes mount.
		{"volumes", []string{module + "/spec", module + "/runtimes", module + "/api", module + "/agent", module + "/images", module + "/registry", module + "/network", "net/http", "github.com/spf13/cobra"}},
		{"network", []string{module + "/spec", module + "/runtimes", module + "/api", module + "/agent", module + "/images", module + "/registry", "github.com/spf13/cobra"}},
		// Local runtimes run what the node's store holds; the node pulls.
		{"runtimes/runc", []string{module + "/spec", module + "/runtimes/wasm", module + "/runtimes/composite", module + "/registry", module + "/api", module + "/agent", "github.com/spf13/cobra"}},
		{"runtimes/wasm", []string{module + "/spec", module + "/runtimes/runc", module + "/runtimes/composite", module + "/registry", module + "/api", module + "/agent", "github.com/spf13/cobra"}},
		// The Docker front door converts into the contract; it knows no
		// runtime's internals and links no docker engine.
		{"api/docker", []string{module + "/agent", module + "/runtimes", module + "/api/server", "github.com/docker/docker", "github.com/spf13/cobra"}},
		// The CRI front door, likewise: it converts into the contract.
		{"cri", []string{module + "/agent", module + "/runtimes", module + "/api/server", module + "/api/docker", "github.com/docker/docker", "github.com/spf13/cobra"}},
		{"api/client", []string{module + "/agent", module + "/runtimes", "github.com/spf13/cobra"}},
		{"agent", []string{module + "/runtimes/runc", module + "/runtimes/wasm", "github.com/spf13/cobra"}},
		{"runtimes/remote", []string{module + "/runtimes/runc", module + "/runtimes/wasm", module + "/runtimes/composite", module + "/agent", "github.com/spf13/cobra"}},
		// The CLI runs once per command: it links what a client needs, and
		// the agent is a binary of its own.
		{"cmd/switchyard", []string{module + "/agent", module + "/runtimes", module + "/images", module + "/registry", module + "/network", module + "/cri", "github.com/containernetworking", "github.com/prometheus", "github.com/tetratelabs/wazero", "go.etcd.io/bbolt", "github.com/containerd/cgroups", "google.golang.org/grpc", "k8s.io/cri-api"}},
		// Every container keeps its shim resident: it links the shim alone.
		{"cmd/switchyard-shim", []string{module + "/runtimes/composite", module + "/runtimes/wasm", module + "/api", module + "/agent", module + "/images", module + "/registry", module + "/network", "github.com/spf13/cobra", "github.com/tetratelabs/wazero", "github.com/google/go-containerregistry/pkg/v1", "net/http"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			for _, d := range deps(t, tc.pkg) {
				for _, f := range tc.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s imports %s (directly or not); dependencies must point down", tc.pkg, d)
					}
				}
			}
		})
	}
}

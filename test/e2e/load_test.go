package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/switchyard/switchyard/internal/testimages"
)

// A machine with no registry access still runs images: load a docker save
// tarball (Linux) and an OCI layout directory (wasm), then run them with
// --pull never; each lands on the runtime its platform needs.
func TestLoad(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()

	saved := filepath.Join(dir, "busybox.tar")
	tag, err := name.NewTag("example.test/offline/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(saved, tag, testimages.Busybox(t)); err != nil {
		t.Fatal(err)
	}
	ociDir := filepath.Join(dir, "wasm-layout")
	lp, err := layout.Write(ociDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	wasm := testimages.WasmModule(t, wasmSource, testimages.ConventionArtifact)
	if err := lp.AppendImage(wasm, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "example.test/offline/wasm:1"})); err != nil {
		t.Fatal(err)
	}

	if out := e.ok("load", "-i", saved); !strings.Contains(out, "Loaded image: example.test/offline/busybox:1") {
		t.Errorf("load of a docker save tarball printed %q", out)
	}
	if out := e.ok("load", "-i", ociDir); !strings.Contains(out, "Loaded image: example.test/offline/wasm:1") {
		t.Errorf("load of an OCI layout directory printed %q", out)
	}
	if out := e.ok("run", "--rm", "--pull", "never", "example.test/offline/busybox:1", "echo", "offline"); out != "offline\n" {
		t.Errorf("run of the loaded busybox printed %q", out)
	}
	if out := e.ok("run", "--rm", "--pull", "never", "-e", "NAME=loaded", "example.test/offline/wasm:1"); !strings.Contains(out, "loaded") {
		t.Errorf("run of the loaded wasm module printed %q", out)
	}
	if res := e.sy("load", "-i", filepath.Join(dir, "missing.tar")); res.code == 0 || !strings.Contains(res.stderr, "no such file") {
		t.Errorf("load of a missing file: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := e.sy("load", "-i", dir); res.code == 0 || !strings.Contains(res.stderr, "oci-layout") {
		t.Errorf("load of a plain directory: exit %d, stderr %q", res.code, res.stderr)
	}
}

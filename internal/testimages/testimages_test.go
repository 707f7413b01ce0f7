package testimages

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

const helloSource = `package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from wasm")
	os.Exit(3)
}
`

func TestImagesRoundTrip(t *testing.T) {
	host := Serve(t)
	for _, tc := range []struct {
		name string
		img  v1.Image
		want v1.Platform
	}{
		{"busybox", Busybox(t), v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"wasm artifact", WasmImage(t, MinimalWasm(), ConventionArtifact), v1.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"wasm platform", WasmImage(t, MinimalWasm(), ConventionPlatform), v1.Platform{OS: "wasi", Architecture: "wasm"}},
		{"windows", Windows(t), v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.1"}},
		{"large", Large(t, 1<<20, 3), v1.Platform{OS: "linux", Architecture: "amd64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := platformOf(t, tc.img); got.OS != tc.want.OS || got.Architecture != tc.want.Architecture || got.OSVersion != tc.want.OSVersion {
				t.Errorf("platform = %+v, want %+v", got, tc.want)
			}
			ref := Push(t, host, "test/"+strings.ReplaceAll(tc.name, " ", "-"), tc.img)
			got, err := remote.Image(mustRef(t, ref))
			if err != nil {
				t.Fatalf("pull back %s: %v", ref, err)
			}
			opts := []validate.Option{}
			if tc.name == "wasm artifact" {
				opts = append(opts, validate.Fast) // the artifact's config is not an image config
			}
			if err := validate.Image(got, opts...); err != nil {
				t.Errorf("validate %s: %v", ref, err)
			}
			wantDigest, _ := tc.img.Digest()
			gotDigest, _ := got.Digest()
			if wantDigest != gotDigest {
				t.Errorf("digest after push = %s, want %s", gotDigest, wantDigest)
			}
		})
	}
}

func TestBusyboxLayout(t *testing.T) {
	img := Busybox(t)
	files := map[string]*tar.Header{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(hdr.Name, "/")] = hdr
	}
	for _, p := range []string{"bin/busybox", "bin/sh", "bin/echo", "bin/cat", "bin/ls", "bin/sleep", "bin/true",
		"bin/false", "bin/mount", "usr/bin/id", "usr/bin/head", "bin/dd", "etc/passwd", "etc/group", "tmp"} {
		if files[p] == nil {
			t.Errorf("busybox image lacks %s", p)
		}
	}
	if h := files["bin/sh"]; h != nil && h.Linkname != "/bin/busybox" {
		t.Errorf("bin/sh links to %q", h.Linkname)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "sh" || len(cf.Config.Env) != 1 {
		t.Errorf("config = %+v", cf.Config)
	}
	again, _ := Busybox(t).Digest()
	first, _ := img.Digest()
	if again != first {
		t.Errorf("busybox digest not deterministic: %s then %s", first, again)
	}
}

func TestIndexDefault(t *testing.T) {
	idx := Index(t)
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Manifests {
		got = append(got, d.Platform.String())
	}
	want := []string{"linux/amd64", "linux/arm64/v8", "wasi/wasm"}
	if len(got) != len(want) {
		t.Fatalf("platforms = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("platform %d = %s, want %s", i, got[i], want[i])
		}
	}
	host := Serve(t)
	ref := Push(t, host, "multi:v1", idx)
	if _, err := remote.Index(mustRef(t, ref)); err != nil {
		t.Fatalf("pull index back: %v", err)
	}
}

// TestWasmModuleRuns compiles a Go program and runs it with wazero, so the
// fixture is known to be a working WASI command module.
func TestWasmModuleRuns(t *testing.T) {
	ctx := context.Background()
	img := WasmModule(t, helloSource, ConventionArtifact)
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v", len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	module, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string][]byte{"compiled": module, "minimal": MinimalWasm()} {
		t.Run(name, func(t *testing.T) {
			r := wazero.NewRuntime(ctx)
			t.Cleanup(func() { r.Close(ctx) })
			wasi_snapshot_preview1.MustInstantiate(ctx, r)
			var out bytes.Buffer
			_, err := r.InstantiateWithConfig(ctx, mod, wazero.NewModuleConfig().WithStdout(&out))
			code := uint32(0)
			if exit, ok := err.(*sys.ExitError); ok {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if name == "compiled" && (code != 3 || out.String() != "hello from wasm\n") {
				t.Errorf("exit %d, stdout %q", code, out.String())
			}
		})
	}
	// The second build comes from the cache and is byte-identical.
	if again := CompileWasm(t, helloSource); !bytes.Equal(again, module) {
		t.Error("cached module differs")
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

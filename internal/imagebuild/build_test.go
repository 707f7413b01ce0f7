package imagebuild_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/switchyard/switchyard/internal/imagebuild"
	"github.com/switchyard/switchyard/runtime"
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

// mustBuild runs build and fails the test on its error.
func mustBuild(t *testing.T, build func() (v1.Image, error)) v1.Image {
	t.Helper()
	img, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestBuildersPlatformsAndValidity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func() (v1.Image, error)
		want  v1.Platform
	}{
		{"busybox", imagebuild.Busybox, v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}},
		{"wasm artifact", func() (v1.Image, error) {
			return imagebuild.WasmImage(imagebuild.MinimalWasm(), imagebuild.ConventionArtifact)
		}, v1.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"wasm platform", func() (v1.Image, error) {
			return imagebuild.WasmImage(imagebuild.MinimalWasm(), imagebuild.ConventionPlatform)
		}, v1.Platform{OS: "wasi", Architecture: "wasm"}},
		{"windows", imagebuild.Windows, v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.1"}},
		{"large", func() (v1.Image, error) { return imagebuild.Large(1<<20, 3) },
			v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}},
		{"marker", func() (v1.Image, error) {
			return imagebuild.Marker(v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
		}, v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := mustBuild(t, tc.build)
			got, err := imagebuild.PlatformOf(img)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want.String() || got.OSVersion != tc.want.OSVersion {
				t.Errorf("platform = %+v, want %+v", got, tc.want)
			}
			again := mustBuild(t, tc.build)
			d1, _ := img.Digest()
			d2, _ := again.Digest()
			if d1 != d2 {
				t.Errorf("not deterministic: %s then %s", d1, d2)
			}
		})
	}
}

func TestBusyboxLayout(t *testing.T) {
	img := mustBuild(t, imagebuild.Busybox)
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
	if h := files["tmp"]; h != nil && h.Mode&0o1777 != 0o1777 {
		t.Errorf("tmp mode = %o, want 1777", h.Mode)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "sh" || len(cf.Config.Env) != 1 {
		t.Errorf("config = %+v", cf.Config)
	}
}

func TestIndexDefault(t *testing.T) {
	idx, err := imagebuild.Index()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Manifests {
		got = append(got, d.Platform.String())
	}
	want := []string{"linux/" + goruntime.GOARCH, "linux/arm64/v8", "wasi/wasm"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("platforms = %v, want %v", got, want)
	}
}

// runWasm runs module with wazero and returns its exit code and stdout, so
// the fixtures are known to be working WASI command modules.
func runWasm(t *testing.T, module []byte) (uint32, string) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	var out bytes.Buffer
	_, err := r.InstantiateWithConfig(ctx, module, wazero.NewModuleConfig().WithStdout(&out))
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, out.String()
}

func TestCompileWasm(t *testing.T) {
	ctx := t.Context()
	module, err := imagebuild.CompileWasm(ctx, helloSource)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := runWasm(t, module); code != 3 || out != "hello from wasm\n" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if code, _ := runWasm(t, imagebuild.MinimalWasm()); code != 0 {
		t.Errorf("minimal module exit %d", code)
	}
	// The second build comes from the cache and is byte-identical.
	if again, err := imagebuild.CompileWasm(ctx, helloSource); err != nil || !bytes.Equal(again, module) {
		t.Errorf("cached module differs (err %v)", err)
	}

	t.Run("artifact layer is the module", func(t *testing.T) {
		img := mustBuild(t, func() (v1.Image, error) { return imagebuild.WasmImage(module, imagebuild.ConventionArtifact) })
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("layers = %d, %v", len(layers), err)
		}
		if mt, _ := layers[0].MediaType(); mt != imagebuild.WasmLayer {
			t.Errorf("layer media type = %s", mt)
		}
		rc, err := layers[0].Compressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, module) {
			t.Errorf("layer is not the module (err %v)", err)
		}
	})

	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		for name, text := range map[string]string{"go.mod": "module hello\n\ngo 1.21\n", "main.go": helloSource} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		mod, err := imagebuild.CompileWasmDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if code, out := runWasm(t, mod); code != 3 || out != "hello from wasm\n" {
			t.Errorf("exit %d, stdout %q", code, out)
		}
	})

	t.Run("compile error carries the compiler output", func(t *testing.T) {
		_, err := imagebuild.CompileWasm(ctx, "package main\n\nfunc main() { undefinedThing() }\n")
		if err == nil || !strings.Contains(err.Error(), "undefinedThing") {
			t.Errorf("err = %v, want the compiler's complaint", err)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		_, err := imagebuild.CompileWasmDir(ctx, filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want not-exist", err)
		}
	})
}

func TestInvalidArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"large with no layers", func() error { _, err := imagebuild.Large(10, 0); return err }},
		{"large with fewer bytes than layers", func() error { _, err := imagebuild.Large(1, 2); return err }},
		{"unknown wasm convention", func() error {
			_, err := imagebuild.WasmImage(imagebuild.MinimalWasm(), imagebuild.Convention(7))
			return err
		}},
		{"bad reference", func() error { _, err := imagebuild.Reference("127.0.0.1:5000", "UPPER/case"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Errorf("err = %v, want invalid argument", err)
			}
		})
	}
}

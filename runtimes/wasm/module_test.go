package wasm

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

type tarEntry struct {
	name, link string
	typ        byte
	body       []byte
}

func mkTar(t testing.TB, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	out := make([]testutil.TarEntry, len(entries))
	for i, e := range entries {
		out[i] = testutil.TarEntry{Name: e.name, Body: string(e.body), Link: e.link, Type: e.typ, Mode: 0o755}
	}
	b := testutil.Tar(t, out...)
	if gz {
		b = testutil.Gzip(t, b)
	}
	return b
}

func TestExtractFile(t *testing.T) {
	mod := []byte("\x00asm\x01\x00\x00\x00")
	for _, tc := range []struct {
		name  string
		layer []byte
		want  error
	}{
		{"plain tar", mkTar(t, false, tarEntry{name: "module.wasm", typ: tar.TypeReg, body: mod}), nil},
		{"gzip tar, ./ prefix", mkTar(t, true, tarEntry{name: "./bin/", typ: tar.TypeDir}, tarEntry{name: "./module.wasm", typ: tar.TypeReg, body: mod}), nil},
		{"missing", mkTar(t, false, tarEntry{name: "other.wasm", typ: tar.TypeReg, body: mod}), runtime.ErrInvalidArgument},
		{"symlink", mkTar(t, false, tarEntry{name: "module.wasm", typ: tar.TypeSymlink, link: "/etc/passwd"}), runtime.ErrInvalidArgument},
		{"hardlink", mkTar(t, false, tarEntry{name: "module.wasm", typ: tar.TypeLink, link: "x"}), runtime.ErrInvalidArgument},
		{"directory", mkTar(t, false, tarEntry{name: "module.wasm/", typ: tar.TypeDir}), runtime.ErrInvalidArgument},
		{"not a tar", []byte("garbage that is not a tar stream at all, no header in sight"), runtime.ErrInvalidArgument},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0}, runtime.ErrNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, digest, err := ExtractFile(bytes.NewReader(tc.layer), "/module.wasm", t.TempDir())
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("ExtractFile = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(file)
			if err != nil || !bytes.Equal(got, mod) {
				t.Fatalf("extracted %q, %v", got, err)
			}
			if want, _ := host.Digest(bytes.NewReader(mod)); digest != want {
				t.Fatalf("digest %s, want %s", digest, want)
			}
		})
	}
}

// FuzzExtractFile feeds arbitrary layers to ExtractFile: it must never
// panic, and what it extracts must be what its digest says.
func FuzzExtractFile(f *testing.F) {
	mod := []byte("\x00asm\x01\x00\x00\x00")
	f.Add(mkTar(f, false, tarEntry{name: "module.wasm", typ: tar.TypeReg, body: mod}))
	f.Add(mkTar(f, true, tarEntry{name: "./module.wasm", typ: tar.TypeReg, body: mod}))
	f.Add(mkTar(f, false, tarEntry{name: "module.wasm", typ: tar.TypeSymlink, link: "../../x"}))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, layer []byte) {
		dir := t.TempDir()
		file, digest, err := ExtractFile(bytes.NewReader(layer), "module.wasm", dir)
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) && !errors.Is(err, runtime.ErrNotSupported) {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := host.Digest(bytes.NewReader(b)); got != digest {
			t.Fatalf("digest %s of a file with digest %s", digest, got)
		}
	})
}

func TestArgv(t *testing.T) {
	img := Module{Ref: "reg.example/team/hello:1", Cmd: []string{"a"}}
	withEntry := Module{Entrypoint: []string{"/bin/mod.wasm", "-v"}, Cmd: []string{"a"}}
	for _, tc := range []struct {
		name string
		mod  Module
		cmd  runtime.CreateSpec
		want []string
	}{
		{"artifact, image cmd", img, runtime.CreateSpec{}, []string{"hello.wasm", "a"}},
		{"artifact, spec args", img, runtime.CreateSpec{Args: []string{"b", "c"}}, []string{"hello.wasm", "b", "c"}},
		{"entrypoint and cmd", withEntry, runtime.CreateSpec{}, []string{"mod.wasm", "-v", "a"}},
		{"spec entrypoint drops image cmd", withEntry, runtime.CreateSpec{Entrypoint: []string{"/x.wasm"}}, []string{"x.wasm"}},
		{"named module", Module{Name: "given.wasm"}, runtime.CreateSpec{}, []string{"given.wasm"}},
		{"digest reference", Module{Ref: "reg.example/hello@sha256:abc"}, runtime.CreateSpec{}, []string{"hello.wasm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := argv(tc.mod, &tc.cmd); !slices.Equal(got, tc.want) {
				t.Fatalf("argv = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	got := environ([]string{"PATH=/", "A=image"}, []string{"A=spec", "B=b"}, "/app")
	want := []string{"PATH=/", "A=spec", "B=b", "PWD=/app"}
	if !slices.Equal(got, want) {
		t.Fatalf("environ = %q, want %q", got, want)
	}
}

package main

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/internal/imagebuild"
	"github.com/switchyard/switchyard/internal/testimages"
)

func TestPushesTheDemoImages(t *testing.T) {
	host := testimages.Serve(t)
	var out bytes.Buffer
	err := run(t.Context(), []string{"--registry", host, "--hello-wasm", "../hello-wasm", "--hello-wasm-http", "../hello-wasm-http"}, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []struct{ repo, platform, configType string }{
		{"demo/busybox", "linux/", "application/vnd.oci.image.config.v1+json"},
		{"demo/hello-wasm", "wasip1/wasm", string(imagebuild.WasmConfigV0)},
		{"demo/hello-wasm-http", "wasip1/wasm", string(imagebuild.WasmConfigV0)},
		{"demo/windows", "windows/amd64", "application/vnd.docker.container.image.v1+json"},
	}
	if len(lines) != len(want) {
		t.Fatalf("output = %q, want %d lines", out.String(), len(want))
	}
	for i, w := range want {
		t.Run(w.repo, func(t *testing.T) {
			f := strings.Fields(lines[i])
			if len(f) != 4 || f[0] != "pushed" || f[1] != host+"/"+w.repo+":latest" || !strings.HasPrefix(f[3], w.platform) {
				t.Fatalf("line %q, want pushed %s/%s:latest DIGEST %s...", lines[i], host, w.repo, w.platform)
			}
			ref, err := name.ParseReference(f[1])
			if err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Get(ref)
			if err != nil {
				t.Fatalf("get %s: %v", ref, err)
			}
			if desc.Digest.String() != f[2] {
				t.Errorf("registry has %s, printed %s", desc.Digest, f[2])
			}
			img, err := desc.Image()
			if err != nil {
				t.Fatal(err)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Config.MediaType) != w.configType {
				t.Errorf("config media type = %s, want %s", m.Config.MediaType, w.configType)
			}
		})
	}
}

func TestOnly(t *testing.T) {
	host := testimages.Serve(t)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"--registry", host, "--only", "windows"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 1 || !strings.Contains(out.String(), "/demo/windows:latest") {
		t.Errorf("output = %q, want one line for demo/windows", out.String())
	}
}

func TestFailures(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"no registry flag", nil, []string{"--registry is required"}},
		{"unknown image", []string{"--registry", "127.0.0.1:5000", "--only", "busybox,nginx"}, []string{`unknown image "nginx"`}},
		{"url instead of host", []string{"--registry", "http://127.0.0.1:5000"}, []string{"host:port only"}},
		{"stray argument", []string{"--registry", "127.0.0.1:5000", "extra"}, []string{"unexpected arguments"}},
		{"registry unreachable", []string{"--registry", closed}, []string{"registry " + closed + " is not reachable", "scripts/demo starts one"}},
		{"missing wasm source", []string{"--registry", testimages.Serve(t), "--only", "hello-wasm", "--hello-wasm", t.TempDir() + "/nope"},
			[]string{"image hello-wasm", "--hello-wasm DIR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tc.args, &out, &bytes.Buffer{})
			if err == nil {
				t.Fatalf("no error; output %q", out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("printed %q on failure", out.String())
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"-help"}, &bytes.Buffer{}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-registry") {
		t.Errorf("usage = %q", stderr.String())
	}
}

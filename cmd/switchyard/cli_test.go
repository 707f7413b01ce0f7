package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"64m", 64 << 20, true},
		{"64M", 64 << 20, true},
		{"512k", 512 << 10, true},
		{"1g", 1 << 30, true},
		{"1gb", 1 << 30, true},
		{"100", 100, true},
		{"1.5g", 3 << 29, true},
		{"12q", 0, false},
		{"m", 0, false},
		{"-1m", 0, false},
		{"0", 0, false},
		{"inf", 0, false},
		{"99999999g", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseMemory(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseMemory(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestContainerID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want runtime.ContainerID
		ok   bool
	}{
		{"web", runtime.ContainerID{Service: "web"}, true},
		{"web-rep-2", runtime.ContainerID{Service: "web", Replica: 2}, true},
		{"demo-web-rep-0", runtime.ContainerID{Service: "demo-web"}, true},
		{"-bad", runtime.ContainerID{}, false},
		{"a b", runtime.ContainerID{}, false},
	} {
		got, err := containerID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("containerID(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("containerID(%q) error %v does not wrap ErrInvalidArgument", tc.in, err)
		}
	}
}

func TestParseVolume(t *testing.T) {
	dir := t.TempDir()
	v, err := parseVolume(dir+":/data:ro", 0)
	if err != nil || v.Source != dir || v.Path != "/data" || !v.ReadOnly {
		t.Fatalf("parseVolume = %+v, %v", v, err)
	}
	for _, bad := range []string{"/data", dir + ":", ":/data", dir + ":/data:rx", "/does/not/exist:/data"} {
		if _, err := parseVolume(bad, 0); err == nil {
			t.Errorf("parseVolume(%q) accepted", bad)
		}
	}
}

func TestServiceSpecFromFlags(t *testing.T) {
	t.Setenv("FROM_CALLER", "yes")
	f := createFlags{name: "web", env: []string{"A=1", "FROM_CALLER", "UNSET_IN_CALLER"}, memory: "64m", cpus: 0.5, platform: "linux/x86_64", pull: "never"}
	id, svc, err := f.serviceSpec([]string{"busybox", "echo", "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != "web-rep-0" || svc.Name != "web" {
		t.Errorf("id %s, name %s", id, svc.Name)
	}
	if svc.Env["A"] != "1" || svc.Env["FROM_CALLER"] != "yes" || len(svc.Env) != 2 {
		t.Errorf("env %v", svc.Env)
	}
	if svc.Resources.MemoryBytes != 64<<20 || svc.Resources.CPU != 0.5 {
		t.Errorf("resources %+v", svc.Resources)
	}
	if svc.Platform == nil || runtime.FormatPlatform(*svc.Platform) != "linux/amd64" {
		t.Errorf("platform %v", svc.Platform)
	}
	if strings.Join(svc.Command.Args, " ") != "echo hi" || svc.Image.PullPolicy != "never" {
		t.Errorf("command %v, pull %s", svc.Command.Args, svc.Image.PullPolicy)
	}
	for _, bad := range []createFlags{{pull: "sometimes"}, {platform: "linx"}, {memory: "lots"}, {cpus: -1}, {name: "no spaces"}, {env: []string{"=x"}}} {
		if _, _, err := bad.serviceSpec([]string{"busybox"}); err == nil {
			t.Errorf("flags %+v accepted", bad)
		}
	}
}

func TestGeneratedName(t *testing.T) {
	for _, image := range []string{"busybox", "127.0.0.1:5000/demo/Hello_Wasm:latest", "x@sha256:abcd", "___"} {
		name := runtime.GeneratedName(image)
		if err := runtime.ValidateServiceName(name); err != nil {
			t.Errorf("runtime.GeneratedName(%q) = %q: %v", image, name, err)
		}
	}
	if a, b := runtime.GeneratedName("busybox"), runtime.GeneratedName("busybox"); a == b {
		t.Errorf("two generated names are equal: %s", a)
	}
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{humanSize(999), "999B"},
		{humanSize(1_150_000), "1.15MB"},
		{binarySize(64 << 20), "64MiB"},
		{binarySize(1536), "1.5KiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestSocketAddress(t *testing.T) {
	t.Setenv("SWITCHYARD_SOCKET", "")
	if got := (&rootOptions{}).address(); got != defaultSocket {
		t.Errorf("default address %s", got)
	}
	t.Setenv("SWITCHYARD_SOCKET", "/tmp/x.sock")
	if got := (&rootOptions{}).address(); got != "/tmp/x.sock" {
		t.Errorf("env address %s", got)
	}
	if got := (&rootOptions{socket: "unix:///a.sock"}).address(); got != "unix:///a.sock" {
		t.Errorf("flag address %s", got)
	}
}

package runtime_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

func TestCreateSpecValidate(t *testing.T) {
	ok := func() *runtime.CreateSpec {
		return &runtime.CreateSpec{Image: "busybox", Env: []string{"A=1", "B="}, Volumes: []runtime.Volume{{Name: "data", Path: "/data"}, {Name: "src", Path: "/src", Source: "/srv"}}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*runtime.CreateSpec)
		saying string
	}{
		{"no image", func(s *runtime.CreateSpec) { s.Image = " " }, "image: empty"},
		{"platform without os", func(s *runtime.CreateSpec) { s.Platform = &ocispec.Platform{Architecture: "amd64"} }, "platform"},
		{"variant without architecture", func(s *runtime.CreateSpec) { s.Platform = &ocispec.Platform{OS: "linux", Variant: "v8"} }, "platform"},
		{"negative cpu", func(s *runtime.CreateSpec) { s.Resources.CPU = -1 }, "resources.cpu"},
		{"NaN cpu", func(s *runtime.CreateSpec) { s.Resources.CPU = math.NaN() }, "resources.cpu"},
		{"negative memory", func(s *runtime.CreateSpec) { s.Resources.MemoryBytes = -1 }, "memory_bytes"},
		{"env without =", func(s *runtime.CreateSpec) { s.Env = []string{"A"} }, "env[0]"},
		{"env with an empty key", func(s *runtime.CreateSpec) { s.Env = []string{"=x"} }, "env[0]"},
		{"volume name escapes", func(s *runtime.CreateSpec) { s.Volumes[0].Name = ".." }, "volume name"},
		{"volume name with a slash", func(s *runtime.CreateSpec) { s.Volumes[0].Name = "a/b" }, "volume name"},
		{"volume named twice", func(s *runtime.CreateSpec) { s.Volumes[1].Name = "data" }, "named twice"},
		{"relative volume path", func(s *runtime.CreateSpec) { s.Volumes[0].Path = "data" }, "absolute path"},
		{"relative volume source", func(s *runtime.CreateSpec) { s.Volumes[1].Source = "srv" }, "absolute host path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.mutate(s)
			err := s.Validate()
			if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.saying) {
				t.Fatalf("Validate = %v, want ErrInvalidArgument saying %q", err, tc.saying)
			}
		})
	}
	var nilSpec *runtime.CreateSpec
	if err := nilSpec.Validate(); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("nil Validate = %v", err)
	}
}

func TestMergeEnvAndLookup(t *testing.T) {
	got := runtime.MergeEnv([]string{"PATH=/bin", "A=1", "B=2"}, []string{"B=x", "C=3", "A=y"})
	if want := []string{"PATH=/bin", "A=y", "B=x", "C=3"}; !slices.Equal(got, want) {
		t.Errorf("MergeEnv = %q, want %q", got, want)
	}
	if v, ok := runtime.Lookup([]string{"A=1", "A=2"}, "A"); !ok || v != "2" {
		t.Errorf("Lookup = %q, %v; the last entry wins", v, ok)
	}
	if _, ok := runtime.Lookup(nil, "A"); ok {
		t.Errorf("Lookup in nothing found something")
	}
}

func TestPlatformMatcher(t *testing.T) {
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	i386 := ocispec.Platform{OS: "linux", Architecture: "386"}
	wasm := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	m := runtime.PlatformMatcher(amd, wasm)
	for _, tc := range []struct {
		p    ocispec.Platform
		want bool
	}{
		{amd, true}, {i386, true}, {wasm, true}, {ocispec.Platform{OS: "wasi", Architecture: "wasm"}, true},
		{ocispec.Platform{OS: "linux", Architecture: "arm64"}, false}, {ocispec.Platform{OS: "windows", Architecture: "amd64"}, false},
	} {
		if got := m.Match(tc.p); got != tc.want {
			t.Errorf("Match(%s) = %v, want %v", runtime.FormatPlatform(tc.p), got, tc.want)
		}
	}
	if !m.Less(amd, i386) || m.Less(i386, amd) {
		t.Errorf("amd64 is not preferred over 386 on an amd64 runtime")
	}
	if !m.Less(i386, wasm) {
		t.Errorf("a match of the first wanted platform is not preferred over the second's")
	}
	if m.Less(ocispec.Platform{OS: "windows"}, amd) {
		t.Errorf("a platform that does not match is preferred")
	}
}

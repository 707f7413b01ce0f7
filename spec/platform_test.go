package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ocispec.Platform
	}{
		{"linux/amd64", ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/x86_64", ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/x86-64", ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{"Linux/AMD64", ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/amd64/v1", ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/amd64/v3", ocispec.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}},
		{"linux/aarch64", ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm64", ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm64/v8", ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm64/8", ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm64/v9", ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v9"}},
		{"linux/arm", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"linux/arm/7", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"linux/arm/v6", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{"linux/armhf", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"linux/armel", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{"linux/i386", ocispec.Platform{OS: "linux", Architecture: "386"}},
		{"linux/ppc64le", ocispec.Platform{OS: "linux", Architecture: "ppc64le"}},
		{"linux/s390x", ocispec.Platform{OS: "linux", Architecture: "s390x"}},
		{"linux/riscv64", ocispec.Platform{OS: "linux", Architecture: "riscv64"}},
		{"macos/arm64", ocispec.Platform{OS: "darwin", Architecture: "arm64"}},
		{"darwin/amd64", ocispec.Platform{OS: "darwin", Architecture: "amd64"}},
		{"freebsd/amd64", ocispec.Platform{OS: "freebsd", Architecture: "amd64"}},
		{"windows/amd64", ocispec.Platform{OS: "windows", Architecture: "amd64"}},
		{"windows", ocispec.Platform{OS: "windows"}},
		{"linux", ocispec.Platform{OS: "linux"}},
		{"wasi/wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"WASI/wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"wasip1/wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"wasip1", ocispec.Platform{OS: "wasip1"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePlatform(tc.in)
			if err != nil {
				t.Fatalf("ParsePlatform(%q): %v", tc.in, err)
			}
			if !platformEqual(got, tc.want) {
				t.Errorf("ParsePlatform(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if n := Normalize(got); !platformEqual(n, got) {
				t.Errorf("Normalize is not idempotent: %+v → %+v", got, n)
			}
			// Whatever we produce, containerd's matcher agrees it is the
			// platform written (for platforms it can parse).
			if got.Architecture != "" && got.OS != "wasip1" {
				if cp, err := platforms.Parse(tc.in); err == nil && !platforms.NewMatcher(got).Match(cp) {
					t.Errorf("containerd does not match %+v against its own %+v", got, cp)
				}
			}
		})
	}
}

func platformEqual(a, b ocispec.Platform) bool {
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant && a.OSVersion == b.OSVersion
}

func TestParsePlatformErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "empty (want os[/arch[/variant]], like linux/amd64 or wasip1/wasm)"},
		{"linux/amd64/v8/x", "too many parts (want os[/arch[/variant]], like linux/arm64/v8)"},
		{"linux//v7", `"" is not a name`},
		{"linux/amd 64", `"amd 64" is not a name`},
		{"windows(10.0)/amd64", `"windows(10.0)" is not a name`},
		{"linx/amd64", `unknown OS "linx" (want one of linux, windows, darwin, freebsd, wasip1)`},
		{"amd64", `unknown OS "amd64"`},
		{"linux/amd65", `unknown architecture "amd65"`},
		{"linux/mips", `unknown architecture "mips"`},
		{"wasip1/amd64", "WebAssembly is wasip1/wasm"},
		{"linux/wasm", "WebAssembly is wasip1/wasm"},
		{"linux/arm/seven", `variant "seven" is not a variant`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParsePlatform(tc.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParsePlatform(%q) err = %v, want ErrInvalid", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "is not a platform") {
				t.Errorf("ParsePlatform(%q) err = %q, want it to contain %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out ocispec.Platform
	}{
		{"empty stays empty", ocispec.Platform{}, ocispec.Platform{}},
		{"os only", ocispec.Platform{OS: "Windows"}, ocispec.Platform{OS: "windows"}},
		{"wasi", ocispec.Platform{OS: "wasi", Architecture: "wasm"}, ocispec.Platform{OS: "wasip1", Architecture: "wasm"}},
		{"aarch64 v8", ocispec.Platform{OS: "linux", Architecture: "aarch64", Variant: "v8"}, ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{"arm default variant", ocispec.Platform{OS: "linux", Architecture: "arm"}, ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"arch without os", ocispec.Platform{Architecture: "x86_64"}, ocispec.Platform{Architecture: "amd64"}},
		{"variant without arch", ocispec.Platform{OS: "linux", Variant: "V7"}, ocispec.Platform{OS: "linux", Variant: "v7"}},
		{"os version kept", ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763"}, ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Normalize(tc.in); !platformEqual(got, tc.out) {
				t.Errorf("Normalize(%+v) = %+v, want %+v", tc.in, got, tc.out)
			}
		})
	}
}

// TestPlatformMatrix checks that every spelling of one platform normalises
// to the same value, so routing compares like with like.
func TestPlatformMatrix(t *testing.T) {
	for canon, spellings := range map[string][]string{
		"linux/amd64":    {"linux/amd64", "linux/x86_64", "linux/x86-64", "LINUX/AMD64", "linux/amd64/v1"},
		"linux/arm64":    {"linux/arm64", "linux/aarch64", "linux/arm64/v8", "linux/aarch64/v8", "linux/arm64/8"},
		"linux/arm/v7":   {"linux/arm", "linux/arm/v7", "linux/arm/7", "linux/armhf"},
		"darwin/arm64":   {"darwin/arm64", "macos/aarch64", "MacOS/arm64"},
		"wasip1/wasm":    {"wasip1/wasm", "wasi/wasm", "Wasi/WASM"},
		"linux/386":      {"linux/386", "linux/i386"},
		"windows/amd64":  {"windows/amd64", "windows/x86_64"},
		"freebsd/arm/v6": {"freebsd/arm/v6", "freebsd/armel", "freebsd/arm/6"},
	} {
		want, err := ParsePlatform(canon)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range spellings {
			t.Run(canon+"="+s, func(t *testing.T) {
				got, err := ParsePlatform(s)
				if err != nil {
					t.Fatal(err)
				}
				if !platformEqual(got, want) {
					t.Errorf("%q → %+v, want %+v", s, got, want)
				}
			})
		}
	}
}

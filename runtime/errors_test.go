package runtime

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestRouteToPeerError(t *testing.T) {
	var err error = fmt.Errorf("create web-rep-0: %w", &RouteToPeerError{
		Service: "web", Platform: "windows/amd64", Image: "example/app:1", Reason: "add a windows peer",
	})
	var rp *RouteToPeerError
	if !errors.As(err, &rp) {
		t.Fatalf("errors.As(%v, *RouteToPeerError) = false", err)
	}
	for _, want := range []string{`"web"`, "windows/amd64", "add a windows peer"} {
		if !strings.Contains(rp.Error(), want) {
			t.Errorf("Error() = %q, want it to mention %s", rp.Error(), want)
		}
	}
}

func TestFormatPlatform(t *testing.T) {
	for _, tc := range []struct {
		p    ocispec.Platform
		want string
	}{
		{ocispec.Platform{OS: "windows"}, "windows"},
		{ocispec.Platform{OS: "linux", Architecture: "amd64"}, "linux/amd64"},
		{ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "linux/arm64/v8"},
		{ocispec.Platform{OS: "wasip1", Architecture: "wasm"}, "wasip1/wasm"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatPlatform(tc.p); got != tc.want {
				t.Fatalf("FormatPlatform(%+v) = %q, want %q", tc.p, got, tc.want)
			}
		})
	}
}

func TestErrorKindsAreDistinct(t *testing.T) {
	kinds := []error{ErrNotFound, ErrAlreadyExists, ErrNotSupported, ErrInvalidArgument, ErrFailedPrecondition, ErrUnavailable}
	for i, a := range kinds {
		for j, b := range kinds {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}

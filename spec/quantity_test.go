package spec

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1", 1}, {"1048576", 1 << 20},
		{"1Ki", 1 << 10}, {"64Mi", 64 << 20}, {"1Gi", 1 << 30}, {"2Ti", 2 << 40}, {"1Pi", 1 << 50}, {"7Ei", 7 << 60},
		{"1k", 1000}, {"512M", 512e6}, {"1G", 1e9}, {"3T", 3e12}, {"1P", 1e15}, {"9E", 9e18},
		{"1.5Gi", 3 << 29}, {"0.5k", 500}, {".5Mi", 1 << 19}, {"1.", 1}, {"9223372036854775807", math.MaxInt64},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMemory(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseMemory(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseMemoryErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `"" is not a quantity`},
		{"64Q", `"64Q" is not a quantity (want a number of bytes with an optional unit: 64Mi, 1Gi, 512M)`},
		{"64mi", "is not a quantity"},
		{"64 Mi", "is not a quantity"},
		{"-1", "is not a quantity"},
		{"+1", "is not a quantity"},
		{"1e6", "is not a quantity"},
		{"Mi", "is not a quantity"},
		{"1.2.3", "is not a quantity"},
		{"0x10", "is not a quantity"},
		{"0.5", "is not a whole number of bytes"},
		{"1.0001k", "is not a whole number of bytes"},
		{"10E", "is too large"},
		{"9223372036854775808", "is too large"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseMemory(tc.in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseMemory(%q) err = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestFormatMemory(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0"}, {1, "1"}, {999, "999"}, {1000, "1k"}, {1024, "1Ki"}, {64 << 20, "64Mi"}, {1 << 30, "1Gi"},
		{512e6, "512M"}, {1536, "1536"}, {3 << 29, "1536Mi"}, {math.MaxInt64, "9223372036854775807"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatMemory(tc.in); got != tc.want {
				t.Errorf("FormatMemory(%d) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMemoryRoundTrip(t *testing.T) {
	var values []int64
	for shift := 0; shift < 63; shift++ {
		values = append(values, 1<<shift, 1<<shift-1, 3<<shift/2)
	}
	for p := int64(1); p <= 1e18; p *= 10 {
		values = append(values, p, 7*p, p+1)
	}
	values = append(values, math.MaxInt64)
	for _, n := range values {
		if n < 0 {
			continue
		}
		s := FormatMemory(n)
		got, err := ParseMemory(s)
		if err != nil || got != n {
			t.Errorf("ParseMemory(FormatMemory(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}

func TestParseCPU(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"0", 0}, {"0.5", 0.5}, {"500m", 0.5}, {"1", 1}, {"2", 2}, {"1.25", 1.25}, {"1m", 0.001}, {"0.001", 0.001},
		{"1024", 1024}, {"1024000m", 1024}, {".5", 0.5},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCPU(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseCPU(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseCPUErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "is not a CPU quantity"},
		{"half", `"half" is not a CPU quantity (want cores, like 0.5 or 2, or millicores, like "500m")`},
		{"-1", "is not a CPU quantity"},
		{"1e3", "is not a CPU quantity"},
		{"m", "is not a CPU quantity"},
		{"0.5m", "is finer than a millicore"},
		{"0.0001", "is finer than a millicore"},
		{"1025", "is more than 1024 cores"},
		{"99999999999999999999999", "is more than 1024 cores"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseCPU(tc.in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseCPU(%q) err = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

// TestCPURoundTrip covers every millicore of the first 16 cores and a
// stride through the rest up to MaxCPU.
func TestCPURoundTrip(t *testing.T) {
	for m := int64(0); m <= MaxCPU*1000; m++ {
		if m > 16000 && m%97 != 0 && m != MaxCPU*1000 {
			continue
		}
		c := float64(m) / 1000
		s := FormatCPU(c)
		got, err := ParseCPU(s)
		if err != nil || got != c {
			t.Fatalf("ParseCPU(FormatCPU(%v) = %q) = %v, %v", c, s, got, err)
		}
		if msg := checkCPU(c); msg != "" {
			t.Fatalf("checkCPU(%v) = %q, want valid", c, msg)
		}
	}
}

package spec

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// MaxCPU is the largest CPU limit a spec may ask for, in cores; more is a
// typo, not a machine.
const MaxCPU = 1024

// memoryUnits are the suffixes a memory quantity may carry, as in
// Kubernetes: binary (Ki, Mi, ...) and decimal (k, M, ...).
var memoryUnits = []struct {
	suffix string
	factor int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

// memoryHint ends every message about a bad memory quantity.
const memoryHint = "(want a number of bytes with an optional unit: 64Mi, 1Gi, 512M)"

// ParseMemory parses a memory quantity: a plain number of bytes ("1048576")
// or a number with a binary (Ki, Mi, Gi, Ti, Pi, Ei) or decimal (k, M, G, T,
// P, E) unit, like "64Mi", "1.5Gi" or "512M". The result must be a whole
// number of bytes that fits in an int64. The error wraps ErrInvalid.
func ParseMemory(s string) (int64, error) {
	n, msg := parseMemory(s)
	if msg != "" {
		return 0, fmt.Errorf("%s: %w", msg, ErrInvalid)
	}
	return n, nil
}

func parseMemory(s string) (int64, string) {
	bad := fmt.Sprintf("%q is not a quantity %s", s, memoryHint)
	num, factor := s, int64(1)
	for _, u := range memoryUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, factor = strings.TrimSuffix(s, u.suffix), u.factor
			break
		}
	}
	if !isDecimal(num) {
		return 0, bad
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, bad
	}
	r.Mul(r, new(big.Rat).SetInt64(factor))
	if !r.IsInt() {
		return 0, fmt.Sprintf("%q is not a whole number of bytes %s", s, memoryHint)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Sprintf("%q is too large (at most %d bytes)", s, int64(math.MaxInt64))
	}
	return r.Num().Int64(), ""
}

// isDecimal reports whether s is digits with at most one decimal point and
// at least one digit: no sign, no exponent, no spaces.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// FormatMemory formats a number of bytes as the shortest exact quantity:
// the largest binary unit that divides it, else the largest decimal unit,
// else plain bytes. ParseMemory(FormatMemory(n)) == n for every n >= 0.
func FormatMemory(n int64) string {
	if n == 0 {
		return "0"
	}
	best := strconv.FormatInt(n, 10)
	for _, u := range memoryUnits {
		if n%u.factor == 0 {
			if s := strconv.FormatInt(n/u.factor, 10) + u.suffix; len(s) <= len(best) {
				best = s
			}
		}
	}
	return best
}

// cpuHint ends every message about a bad CPU quantity.
const cpuHint = "(want cores, like 0.5 or 2, or millicores, like \"500m\")"

// ParseCPU parses a CPU quantity in cores: "0.5", "2", or millicores "500m".
// Precision finer than a millicore, negative values and more than MaxCPU
// cores are errors. The error wraps ErrInvalid.
func ParseCPU(s string) (float64, error) {
	c, msg := parseCPU(s)
	if msg != "" {
		return 0, fmt.Errorf("%s: %w", msg, ErrInvalid)
	}
	return c, nil
}

func parseCPU(s string) (float64, string) {
	num, milli := s, false
	if strings.HasSuffix(s, "m") {
		num, milli = strings.TrimSuffix(s, "m"), true
	}
	if !isDecimal(num) {
		return 0, fmt.Sprintf("%q is not a CPU quantity %s", s, cpuHint)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Sprintf("%q is not a CPU quantity %s", s, cpuHint)
	}
	if !milli {
		r.Mul(r, big.NewRat(1000, 1))
	}
	if !r.IsInt() {
		return 0, fmt.Sprintf("%q is finer than a millicore (0.001 cores) %s", s, cpuHint)
	}
	if r.Cmp(big.NewRat(MaxCPU*1000, 1)) > 0 {
		return 0, fmt.Sprintf("%q is more than %d cores %s", s, MaxCPU, cpuHint)
	}
	return float64(r.Num().Int64()) / 1000, ""
}

// FormatCPU formats a number of cores as a decimal ("0.5", "2", "0.125").
// ParseCPU(FormatCPU(c)) == c for every valid c (a whole number of
// millicores from 0 to MaxCPU).
func FormatCPU(c float64) string {
	return strconv.FormatFloat(c, 'f', -1, 64)
}

// checkCPU returns what is wrong with a CPU limit built in code, or "".
func checkCPU(c float64) string {
	switch {
	case math.IsNaN(c) || math.IsInf(c, 0) || c < 0:
		return fmt.Sprintf("%v is not a CPU quantity %s", c, cpuHint)
	case c > MaxCPU:
		return fmt.Sprintf("%v is more than %d cores %s", c, MaxCPU, cpuHint)
	case math.Abs(c*1000-math.Round(c*1000)) > 1e-6:
		return fmt.Sprintf("%v is finer than a millicore (0.001 cores) %s", c, cpuHint)
	}
	return ""
}

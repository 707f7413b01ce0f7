package spec

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// durationUnits are the units a duration may carry, as ZLayer (humantime)
// reads them; a month is 30.44 days and a year 365.25, as there.
var durationUnits = map[string]time.Duration{
	"nsec": time.Nanosecond, "ns": time.Nanosecond,
	"usec": time.Microsecond, "us": time.Microsecond, "µs": time.Microsecond,
	"msec": time.Millisecond, "ms": time.Millisecond,
	"seconds": time.Second, "second": time.Second, "sec": time.Second, "secs": time.Second, "s": time.Second,
	"minutes": time.Minute, "minute": time.Minute, "min": time.Minute, "mins": time.Minute, "m": time.Minute,
	"hours": time.Hour, "hour": time.Hour, "hr": time.Hour, "hrs": time.Hour, "h": time.Hour,
	"days": 24 * time.Hour, "day": 24 * time.Hour, "d": 24 * time.Hour,
	"weeks": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "w": 7 * 24 * time.Hour,
	"months": 2630016 * time.Second, "month": 2630016 * time.Second, "M": 2630016 * time.Second,
	"years": 31557600 * time.Second, "year": 31557600 * time.Second, "y": 31557600 * time.Second,
}

// durationHint ends every message about a bad duration.
const durationHint = "(want a number with a unit, like 500ms, 30s, 5m or 1h 30m)"

// ParseDuration parses a duration as a ZLayer spec writes one: numbers with
// units, optionally separated by spaces ("30s", "1m30s", "1h 30m", "2days").
// The error wraps ErrInvalid.
func ParseDuration(s string) (time.Duration, error) {
	d, msg := parseDuration(s)
	if msg != "" {
		return 0, fmt.Errorf("%s: %w", msg, ErrInvalid)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, string) {
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, "empty duration " + durationHint
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Sprintf("%q is not a duration %s", s, durationHint)
		}
		var n int64
		for _, c := range rest[:i] {
			if n > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, fmt.Sprintf("%q is too long a duration", s)
			}
			n = n*10 + int64(c-'0')
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := 0
		for j < len(rest) && rest[j] != ' ' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unitName := rest[:j]
		rest = strings.TrimLeft(rest[j:], " ")
		if unitName == "" {
			if n == 0 && rest == "" && total == 0 {
				return 0, ""
			}
			return 0, fmt.Sprintf("%q has a number without a unit %s", s, durationHint)
		}
		unit, ok := durationUnits[unitName]
		if !ok {
			return 0, fmt.Sprintf("%q has an unknown unit %q %s", s, unitName, durationHint)
		}
		if n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Sprintf("%q is too long a duration", s)
		}
		total += time.Duration(n) * unit
	}
	return total, ""
}

// Package proc reads what the node needs of /proc about a process: when it
// started, so that a pid recorded earlier is known to be the same process
// and not another that took the number since; and when the machine booted,
// so that a record from before is known to be of a run the boot ended.
package proc

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// Start returns the start time of process pid (field 22 of its stat, in
// clock ticks since boot), and false when it does not exist or is a zombie.
func Start(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	return n, err == nil
}

// Booted returns when the machine booted (btime in /proc/stat), and false
// when it cannot tell.
func Booted() (time.Time, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	return bootTime(string(b))
}

// bootTime finds the btime line of a /proc/stat.
func bootTime(stat string) (time.Time, bool) {
	for _, line := range strings.Split(stat, "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || secs <= 0 {
				return time.Time{}, false
			}
			return time.Unix(secs, 0), true
		}
	}
	return time.Time{}, false
}

// BeforeBoot reports whether t is before the machine's boot: what a
// process recorded then, it did not live to finish.
func BeforeBoot(t time.Time) bool {
	boot, ok := Booted()
	return ok && !t.IsZero() && t.Before(boot)
}

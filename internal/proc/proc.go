// Package proc reads what the node needs of /proc about a process: when it
// started, so that a pid recorded earlier is known to be the same process
// and not another that took the number since.
package proc

import (
	"os"
	"strconv"
	"strings"
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

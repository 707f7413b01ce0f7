package shim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func rssFile(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// TestTrim checks that trimming drops file pages of the binary and that
// the process runs on afterwards.
func TestTrim(t *testing.T) {
	before := rssFile(t)
	trim()
	after := rssFile(t)
	t.Logf("RssFile %d KiB before trim, %d KiB after", before, after)
	if after >= before {
		t.Errorf("trim did not lower RssFile: %d -> %d KiB", before, after)
	}
}

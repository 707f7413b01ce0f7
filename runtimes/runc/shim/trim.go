package shim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// trim gives back the memory the shim no longer needs once the container
// runs: the free heap, and the pages of its own binary that start-up
// touched (every package's init in a large binary) but an idle shim never
// uses again. Those pages are read-only file pages, so dropping them from
// the shim's page tables is safe: a page needed again is faulted back in
// from the page cache, which all shims and the agent share anyway.
func trim() {
	debug.FreeOSMemory()
	trimCode()
}

// trimCode drops the shim's read-only pages of its own binary from its
// page tables (see trim).
func trimCode() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	type span struct{ start, end uintptr }
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && end > start {
			spans = append(spans, span{uintptr(start), uintptr(end)})
		}
	}
	for _, s := range spans {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, s.start, s.end-s.start, unix.MADV_DONTNEED); errno != 0 {
			fmt.Fprintf(os.Stderr, "shim: trim %x-%x: %v\n", s.start, s.end, errno)
		}
	}
}

// quietAfter is how long a container's output stays quiet before the shim
// trims its code pages again (trimCode; the heap is the collector's and
// its scavenger's to give back).
const quietAfter = 2 * time.Second

// quietReader is an output pipe that sets the trim timer back on every
// read: the timer fires (and the shim trims) once the output has been
// quiet for quietAfter.
type quietReader struct {
	io.Reader
	timer *time.Timer
}

func (q quietReader) Read(p []byte) (int, error) {
	n, err := q.Reader.Read(p)
	if n > 0 {
		q.timer.Reset(quietAfter)
	}
	return n, err
}

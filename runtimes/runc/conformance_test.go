package runc

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// workloadScript is a busybox sh script that does what w describes.
func workloadScript(w runtimetest.Workload) string {
	var b strings.Builder
	for _, l := range w.Stdout {
		fmt.Fprintf(&b, "printf '%%s\\n' %s; ", shQuote(l))
	}
	for _, l := range w.Stderr {
		fmt.Fprintf(&b, "printf '%%s\\n' %s >&2; ", shQuote(l))
	}
	switch {
	case w.UntilStopped && w.Busy:
		b.WriteString(`trap 'exit 143' TERM; while :; do :; done`)
	case w.UntilStopped:
		b.WriteString(untilStopped)
	default:
		fmt.Fprintf(&b, "exit %d", w.ExitCode)
	}
	return b.String()
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestConformance(t *testing.T) {
	requireRoot(t)
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Containers { return newTestRuntime(t) },
		Workload: func(t *testing.T, w runtimetest.Workload) *runtime.CreateSpec {
			return shSpec("conformance", workloadScript(w))
		},
		Caps:     runtimetest.Caps{Exec: true, Rename: true, CPUStats: true},
		Parallel: true,
	})
}

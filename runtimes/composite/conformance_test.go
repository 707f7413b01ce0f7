package composite

import (
	"log/slog"
	"testing"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestConformance runs the contract's suite against a composite over two
// Fakes: every container goes to the primary, through dispatch records.
func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Containers {
			runc, wasm, _ := newFakes()
			return mustNew(t, []runtime.Containers{runc, wasm}, WithLogger(slog.New(slog.DiscardHandler)))
		},
		Workload: func(_ *testing.T, w runtimetest.Workload) *runtime.CreateSpec { return runtimetest.FakeSpec(w) },
		ExecArgv: runtimetest.FakeExecArgv,
		Caps:     runtimetest.Caps{Exec: true, Rename: true},
		Parallel: true,
	})
}

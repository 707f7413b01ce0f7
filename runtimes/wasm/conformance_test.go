package wasm

import (
	"strconv"
	"testing"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// conformanceRef is the test module's image in every conformance runtime.
const conformanceRef = "test.local/wasm/testmod:latest"

func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Containers {
			e := newEnv(t)
			e.testImage(t)
			return e.rt
		},
		Workload: func(_ *testing.T, w runtimetest.Workload) *runtime.CreateSpec {
			args := []string{"workload"}
			for _, l := range w.Stdout {
				args = append(args, "stdout="+l)
			}
			for _, l := range w.Stderr {
				args = append(args, "stderr="+l)
			}
			args = append(args, "exit="+strconv.Itoa(w.ExitCode))
			if w.UntilStopped {
				args = append(args, "until-stopped")
			}
			return svc(conformanceRef, args...)
		},
		Caps: runtimetest.Caps{Exec: false, Rename: true},
	})
}

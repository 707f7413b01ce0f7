package runtimetest_test

import (
	"testing"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func TestFakeConformance(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		name := "sequential"
		if parallel {
			name = "parallel"
		}
		t.Run(name, func(t *testing.T) {
			runtimetest.Run(t, runtimetest.Harness{
				New: func(*testing.T) runtime.Containers { return runtimetest.NewFake("fake") },
				Workload: func(_ *testing.T, w runtimetest.Workload) *runtime.CreateSpec {
					return runtimetest.FakeSpec(w)
				},
				ExecArgv: runtimetest.FakeExecArgv,
				Caps:     runtimetest.Caps{Exec: true, Rename: true},
				Parallel: parallel,
			})
		})
	}
}

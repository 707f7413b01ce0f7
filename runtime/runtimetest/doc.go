// Package runtimetest holds what every runtime's tests share: Fake, an
// in-memory runtime.Runtime with a real container state machine, and Run,
// the conformance suite that checks a runtime keeps the contract.
//
// A runtime passes the suite by supplying a Harness: how to make a fresh
// runtime, and how to express a Workload (print these lines, then exit with
// this code or run until stopped) as a service spec it can run.
//
//	func TestConformance(t *testing.T) {
//		runtimetest.Run(t, runtimetest.Harness{
//			New:      func(t *testing.T) runtime.Runtime { return newTestRuntime(t) },
//			Workload: func(t *testing.T, w runtimetest.Workload) *runtime.CreateSpec { return shellSpec(w) },
//			Caps:     runtimetest.Caps{Exec: true},
//		})
//	}
//
// The Fake runs its own workloads (see FakeSpec), records every call, and
// fails any method on demand, which makes it the neighbour of choice for
// testing code that drives a runtime, such as the composite or the API:
//
//	f := runtimetest.NewFake("runc", platforms.MustParse("linux/amd64"))
//	f.FailOn("create", fmt.Errorf("disk full: %w", runtime.ErrUnavailable))
package runtimetest

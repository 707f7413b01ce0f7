package runtimetest

import (
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// Workload describes what a test workload does, independently of how a
// runtime runs it: it writes Stdout and Stderr (one line each, in order,
// stdout first), then exits with ExitCode, or, when UntilStopped is set,
// keeps running until it is stopped or killed. A workload that runs until
// stopped must end promptly on SIGTERM (with any code).
type Workload struct {
	// Stdout are the lines written to standard output.
	Stdout []string
	// Stderr are the lines written to standard error, after Stdout.
	Stderr []string
	// ExitCode is the code the workload exits with when it ends by itself.
	ExitCode int
	// UntilStopped keeps the workload running after its output until a stop
	// or kill ends it.
	UntilStopped bool
	// Busy, with UntilStopped, keeps a CPU busy meanwhile, where the
	// runtime's workloads can (Caps.CPUStats); else the workload idles.
	Busy bool
}

// FakeEntrypoint is the entrypoint that marks a spec as a Fake workload;
// the Fake reads the workload from the arguments FakeSpec writes.
const FakeEntrypoint = "runtimetest-fake"

// FakeSpec returns a fresh create request that the Fake runs as w. Its image
// is "runtimetest/fake:latest"; callers may change it. A request that does
// not use FakeEntrypoint runs in the Fake as a silent workload that runs
// until stopped.
func FakeSpec(w Workload) *runtime.CreateSpec {
	args := make([]string, 0, len(w.Stdout)+len(w.Stderr)+2)
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
	return &runtime.CreateSpec{
		Image:      "runtimetest/fake:latest",
		Entrypoint: []string{FakeEntrypoint},
		Args:       args,
	}
}

// workloadOf reads back what FakeSpec wrote. Anything else is a silent
// workload that runs until stopped, so that specs written for real runtimes
// still behave like services in the Fake.
func workloadOf(cs *runtime.CreateSpec) Workload {
	if len(cs.Entrypoint) != 1 || cs.Entrypoint[0] != FakeEntrypoint {
		return Workload{UntilStopped: true}
	}
	var w Workload
	for _, a := range cs.Args {
		switch {
		case strings.HasPrefix(a, "stdout="):
			w.Stdout = append(w.Stdout, strings.TrimPrefix(a, "stdout="))
		case strings.HasPrefix(a, "stderr="):
			w.Stderr = append(w.Stderr, strings.TrimPrefix(a, "stderr="))
		case strings.HasPrefix(a, "exit="):
			w.ExitCode, _ = strconv.Atoi(strings.TrimPrefix(a, "exit="))
		case a == "until-stopped":
			w.UntilStopped = true
		}
	}
	return w
}

// FakeExecArgv returns an argv that the Fake's Exec answers by writing
// stdout (as is) and exiting with code, the way `sh -c 'printf ...; exit N'`
// does in a real container.
func FakeExecArgv(stdout string, code int) []string {
	return []string{FakeEntrypoint, "exec", strconv.Itoa(code), stdout}
}

// execOf reads back what FakeExecArgv wrote.
func execOf(argv []string) (stdout string, code int, ok bool) {
	if len(argv) != 4 || argv[0] != FakeEntrypoint || argv[1] != "exec" {
		return "", 0, false
	}
	code, err := strconv.Atoi(argv[2])
	if err != nil {
		return "", 0, false
	}
	return argv[3], code, true
}

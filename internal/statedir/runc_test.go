package statedir

import (
	"errors"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// TestClassifyRunc checks every message ClassifyRunc knows, each as runc
// words it.
func TestClassifyRunc(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{
		// runc does not know the container.
		{"container does not exist", runtime.ErrNotFound},
		{"runc kill: container does not exist", runtime.ErrNotFound},
		// Its state went away during runc start.
		{"remove /run/runc/web.1a2b/exec.fifo: no such file or directory", runtime.ErrNotFound},
		{"open /run/runc/web.1a2b/state.json: no such file or directory", runtime.ErrNotFound},
		// The wrong state.
		{"container process is already dead", runtime.ErrFailedPrecondition},
		{"exec fifo: container process is already dead", runtime.ErrFailedPrecondition},
		{"cannot start an already running container", runtime.ErrFailedPrecondition},
		{"cannot start a container that has stopped", runtime.ErrFailedPrecondition},
		{"container not running", runtime.ErrFailedPrecondition},
		{"cannot delete container web.1a2b that is not stopped: container still running", runtime.ErrFailedPrecondition},
		// What the workload asks for.
		{`unable to start container process: exec: "nope": executable file not found in $PATH`, runtime.ErrInvalidArgument},
		{`unable to start container process: exec: "/bin/nope": stat /bin/nope: no such file or directory`, runtime.ErrInvalidArgument},
		{`unable to start container process: exec: "/etc/passwd": permission denied`, runtime.ErrInvalidArgument},
		{"container init was OOM-killed (memory limit too low?)", runtime.ErrInvalidArgument},
		{"unable to set memory limit to 65536 (current usage: 1234567, peak usage: 2345678)", runtime.ErrInvalidArgument},
		{"fork/exec /proc/self/exe: cannot allocate memory", runtime.ErrInvalidArgument},
		{"invalid rootfs: stat /x: no such file or directory", runtime.ErrInvalidArgument},
		{"Invalid Argument", runtime.ErrInvalidArgument},
		// Another object missing.
		{"mount source /data does not exist", runtime.ErrNotFound},
		// Anything else: the node cannot run it now.
		{"exit status 1", runtime.ErrUnavailable},
		{"container with id exists: web.1a2b", runtime.ErrUnavailable},
		{"", runtime.ErrUnavailable},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			if got := ClassifyRunc(tc.msg); !errors.Is(got, tc.want) {
				t.Errorf("ClassifyRunc(%q) = %v, want %v", tc.msg, got, tc.want)
			}
		})
	}
}

func TestRuncMessage(t *testing.T) {
	for _, tc := range []struct {
		name, out, want string
	}{
		{"json error", `{"level":"warning","msg":"w"}` + "\n" + `{"level":"error","msg":"container does not exist"}`, "container does not exist"},
		{"errors and fatals, in order", `{"level":"info","msg":"hello"}` + "\n" + `{"level":"error","msg":"first"}` + "\n" + `{"level":"fatal","msg":"last"}` + "\n", "first; last"},
		{"plain text", "some failure\n", "some failure"},
		{"json and text", `{"level":"error","msg":"first"}` + "\nnot json\n", "first; not json"},
		{"nothing", "", ""},
		{"only info", `{"level":"info","msg":"hello"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RuncMessage([]byte(tc.out)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

package wasm

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// TestProcessFieldsRefused: a field that needs a process, a user or a
// kernel (capabilities, devices, sysctls, a hostname, a stop signal) is an
// error that names it, never dropped; a read-only root and a named volume
// apply.
func TestProcessFieldsRefused(t *testing.T) {
	e := newEnv(t)
	ref := e.testImage(t)
	for field, mod := range map[string]func(*runtime.CreateSpec){
		"privileged":                        func(cs *runtime.CreateSpec) { cs.Security.Privileged = true },
		"capabilities":                      func(cs *runtime.CreateSpec) { cs.Security.CapAdd = []string{"NET_ADMIN"} },
		"devices":                           func(cs *runtime.CreateSpec) { cs.Security.Devices = []runtime.Device{{Path: "/dev/fuse"}} },
		"sysctls":                           func(cs *runtime.CreateSpec) { cs.Security.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"} },
		"user":                              func(cs *runtime.CreateSpec) { cs.User = "1000" },
		"hostname":                          func(cs *runtime.CreateSpec) { cs.Hostname = "h" },
		"stop_signal":                       func(cs *runtime.CreateSpec) { cs.StopSignal = "QUIT" },
		"resources (beyond cpu and memory)": func(cs *runtime.CreateSpec) { cs.Resources.PidsLimit = 5 },
	} {
		t.Run(field, func(t *testing.T) {
			cs := svc(ref)
			mod(cs)
			err := e.rt.Create(ctxT(t), cid("refused"), cs)
			if !errors.Is(err, runtime.ErrNotSupported) || !strings.Contains(err.Error(), field) {
				t.Fatalf("Create: %v; want not-supported naming %s", err, field)
			}
		})
	}
	cs := svc(ref, "write", "/x", "data")
	cs.Security.ReadOnlyRootFS = true
	if o := mustRun(t, e.rt, cid("readonly"), cs); o.ExitCode == 0 {
		t.Errorf("a module wrote to a read-only root: exit %d", o.ExitCode)
	}
	cs = svc(ref, "write", "/x", "data")
	if o := mustRun(t, e.rt, cid("writable"), cs); o.ExitCode != 0 {
		t.Errorf("the same write to a writable root failed: exit %d", o.ExitCode)
	}
}

package statedir

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// RuncMessage extracts runc's error from what it wrote: its JSON log lines
// (--log-format json; the messages at level error or fatal) and any plain
// text, joined by "; ". It is "" when runc said nothing of use.
func RuncMessage(out []byte) string {
	var msgs []string
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte{'\n'}) {
		var rec struct{ Level, Msg string }
		if json.Unmarshal(line, &rec) == nil && rec.Msg != "" {
			if rec.Level == "error" || rec.Level == "fatal" {
				msgs = append(msgs, rec.Msg)
			}
			continue
		}
		if s := strings.TrimSpace(string(line)); s != "" {
			msgs = append(msgs, s)
		}
	}
	return strings.Join(msgs, "; ")
}

// runcKind is a class of runc's messages: those that contain one of any
// and each of all (lower case).
type runcKind struct {
	kind     error
	any, all []string
}

// runcKinds classifies runc's messages, first match wins. runc reports
// everything as text, so this table is the one place that reads it. A
// function, not a variable, so that no caller can change it.
func runcKinds() []runcKind {
	return []runcKind{
		// runc does not know the container: never created, or deleted.
		{runtime.ErrNotFound, []string{"container does not exist"}, nil},
		// Its state went away under runc (the shim's runc delete of a
		// workload that ended at once, during runc start).
		{runtime.ErrNotFound, []string{"exec.fifo", "state.json"}, []string{"no such file"}},
		// The container is in the wrong state for the operation.
		{runtime.ErrFailedPrecondition, []string{
			"container process is already dead",
			"cannot start an already running container",
			"cannot start a container that has stopped",
			"not running",
			"not stopped",
		}, nil},
		// What the workload asks for is wrong: a missing program or
		// directory, a program it may not run, a memory limit too small to
		// start in, a bad setting.
		{runtime.ErrInvalidArgument, []string{
			"no such file", "not found", "permission denied",
			"oom", "memory", "cannot allocate", "invalid",
		}, nil},
		// Any other object runc names as missing.
		{runtime.ErrNotFound, []string{"does not exist"}, nil},
	}
}

// ClassifyRunc returns the error kind of a message of runc's (RuncMessage,
// or the text of a failed runc command): runtime.ErrNotFound when runc does
// not know the container or its state went away, ErrFailedPrecondition
// when the container is in the wrong state (already running, already
// dead, stopped), ErrInvalidArgument when what the workload asks for
// cannot run (a program or directory that is missing or not permitted, a
// memory limit it cannot start in, an invalid setting), and ErrUnavailable
// for anything else: the node cannot run it now.
//
// The kinds are runc's view of its own container; a caller for which that
// means something else (runc's "does not exist" is, for a container the
// agent knows, one that is not running) says so in its own error.
func ClassifyRunc(msg string) error {
	msg = strings.ToLower(msg)
	for _, k := range runcKinds() {
		if containsAny(msg, k.any) && containsAll(msg, k.all) {
			return k.kind
		}
	}
	return runtime.ErrUnavailable
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

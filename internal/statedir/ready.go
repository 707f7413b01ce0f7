package statedir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/switchyard/switchyard/runtime"
)

// maxReport bounds what ReadReady reads: a report is one short line, and a
// descriptor that streams something else must not fill the agent's memory.
const maxReport = 64 << 10

// Ready is the shim's ready report, one JSON line on its ready descriptor:
// whether the workload was created and, when not, the kind of the failure
// (a runtime.KindName) and the message people read.
type Ready struct {
	OK      bool   `json:"ok"`
	Kind    string `json:"kind,omitempty"`
	Message string `json:"message,omitempty"`
}

// WriteReady writes the report of err to w: ok when err is nil, else err's
// kind and message.
func WriteReady(w io.Writer, err error) error {
	r := Ready{OK: err == nil}
	if err != nil {
		r.Kind, r.Message = runtime.KindName(err), err.Error()
	}
	b, merr := json.Marshal(r)
	if merr != nil {
		return merr
	}
	_, werr := w.Write(append(b, '\n'))
	return werr
}

// ReadReady reads one report from r and returns nil when it says ok, else
// the failure it reports, which wraps the kind it names (ErrUnavailable
// when it names none this version knows). It returns after the report's
// line (or at end of file) without waiting for r to be closed, and reads
// at most 64 KiB, so something other than a report on r is an error, not a
// hang. Nothing at all is an error wrapping ErrUnavailable.
//
// An earlier shim wrote "ok\n" or a message as plain text; those are read
// too (the message classified by ClassifyRunc), so that the runtime works
// with a shim binary of the previous version.
func ReadReady(r io.Reader) error {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxReport), 4096).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("ready report: %w: %w", err, runtime.ErrUnavailable)
	}
	if len(line) >= maxReport && line[len(line)-1] != '\n' {
		return fmt.Errorf("the shim's ready report is longer than %d KiB: %s: %w", maxReport>>10, quote(line), runtime.ErrUnavailable)
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return fmt.Errorf("the shim ended without a ready report: %w", runtime.ErrUnavailable)
	}
	if line[0] != '{' {
		if string(line) == "ok" {
			return nil
		}
		if !isText(line) {
			return fmt.Errorf("the shim's ready report is neither JSON nor text: %s: %w", quote(line), runtime.ErrUnavailable)
		}
		msg := string(line)
		return &reportError{msg: msg, kind: ClassifyRunc(msg)}
	}
	var rep Ready
	if err := json.Unmarshal(line, &rep); err != nil {
		return fmt.Errorf("the shim's ready report is not valid JSON: %s: %w", quote(line), runtime.ErrUnavailable)
	}
	if rep.OK {
		return nil
	}
	kind := runtime.KindFromName(rep.Kind)
	if kind == nil {
		kind = runtime.ErrUnavailable
	}
	if rep.Message == "" {
		rep.Message = "the shim reported a failure without a message"
	}
	return &reportError{msg: rep.Message, kind: kind}
}

// reportError is a failure as the shim reported it: its message, which
// names the kind already, and the kind for errors.Is.
type reportError struct {
	msg  string
	kind error
}

func (e *reportError) Error() string { return e.msg }
func (e *reportError) Unwrap() error { return e.kind }

// isText reports whether b looks like a line of text: no control bytes.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// quote quotes b for an error message, shortened to its start.
func quote(b []byte) string {
	const limit = 200
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + "..."
	}
	return strconv.Quote(string(b))
}

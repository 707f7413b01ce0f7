package api

import (
	"fmt"
	"net/netip"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// Version is the API version this package speaks; it is the first segment
// of every path.
const Version = "v1"

// ContentTypeNDJSON is the content type of streamed responses: one JSON
// Frame a line.
const ContentTypeNDJSON = "application/x-ndjson"

// Info is the answer of GET /v1/info: who the daemon is.
type Info struct {
	// Name is the served runtime's Name.
	Name string `json:"name"`
	// Platforms are the served runtime's Platforms, most preferred first.
	Platforms []ocispec.Platform `json:"platforms"`
	// Version is the daemon's version.
	Version string `json:"version"`
	// APIVersion is the API version (Version).
	APIVersion string `json:"api_version"`
}

// RunEvent is one frame's data of POST /v1/containers/{id}/run: first
// Started, once the container is created and started; then, when the run
// asked to wait, Outcome once the condition holds.
type RunEvent struct {
	Started bool                 `json:"started,omitempty"`
	Outcome *runtime.WaitOutcome `json:"outcome,omitempty"`
}

// ExecRequest is the body of POST /v1/containers/{id}/exec.
type ExecRequest struct {
	Argv []string `json:"argv"`
	// Env are more KEY=VALUE entries; User runs it as user[:group];
	// Workdir runs it there.
	Env     []string `json:"env,omitempty"`
	User    string   `json:"user,omitempty"`
	Workdir string   `json:"workdir,omitempty"`
	// TTY gives the command a terminal; its output is one stream.
	TTY bool `json:"tty,omitempty"`
	// TerminalSize is the terminal's first size, rows and columns.
	TerminalSize [2]uint16 `json:"terminal_size,omitzero"`
	// Input names the client's input for a streamed exec: the client sends
	// it to POST /v1/inputs/{input} (frames of package inputframe). Stdin
	// gives the command that input; without it only terminal sizes come
	// there.
	Input string `json:"input,omitempty"`
	Stdin bool   `json:"stdin,omitempty"`
}

// PullRequest is the body of POST /v1/images/pull.
type PullRequest struct {
	Ref      string            `json:"ref"`
	Policy   spec.PullPolicy   `json:"policy,omitempty"`
	Auth     *RegistryAuth     `json:"auth,omitempty"`
	Platform *ocispec.Platform `json:"platform,omitempty"`
}

// TagRequest is the body of POST /v1/images/tag.
type TagRequest struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// ExitCode is the answer of POST /v1/containers/{id}/wait.
type ExitCode struct {
	ExitCode int `json:"exit_code"`
}

// PID is the answer of GET /v1/containers/{id}/pid.
type PID struct {
	PID int `json:"pid"`
}

// IP is the answer of GET /v1/containers/{id}/ip; the zero Addr is "".
type IP struct {
	IP netip.Addr `json:"ip"`
}

// Port is the answer of GET /v1/containers/{id}/port-override; 0 is none.
type Port struct {
	Port uint16 `json:"port"`
}

// Frame is one line of a stream of T (log entries, exec events). A stream
// is any number of Data frames, then exactly one final frame: EOF (the
// stream ended normally) or Error. A frame with nothing set is a heartbeat
// that keeps an idle connection alive. A stream whose connection ends
// before the final frame was dropped.
type Frame[T any] struct {
	Data  *T     `json:"data,omitempty"`
	Error *Error `json:"error,omitempty"`
	EOF   bool   `json:"eof,omitempty"`
}

// PullFrame is one line of a pull's stream: progress events, then exactly
// one Result or Error. A frame with nothing set is a heartbeat.
type PullFrame struct {
	Progress *runtime.PullProgress `json:"progress,omitempty"`
	Result   *runtime.ImageInfo    `json:"result,omitempty"`
	Error    *Error                `json:"error,omitempty"`
}

// ParseTerminalSize reads a resize's h (rows) and w (columns) query
// values, as docker's resize endpoints and switchyard's take them.
func ParseTerminalSize(h, w string) (rows, cols uint16, err error) {
	hv, err1 := strconv.ParseUint(h, 10, 16)
	wv, err2 := strconv.ParseUint(w, 10, 16)
	if err1 != nil || err2 != nil || hv == 0 || wv == 0 {
		return 0, 0, fmt.Errorf("resize: h=%q w=%q: want rows and columns, numbers from 1 to 65535: %w", h, w, runtime.ErrInvalidArgument)
	}
	return uint16(hv), uint16(wv), nil
}

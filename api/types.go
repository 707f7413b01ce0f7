package api

import (
	"net/netip"

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

// ExecRequest is the body of POST /v1/containers/{id}/exec.
type ExecRequest struct {
	Argv []string `json:"argv"`
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

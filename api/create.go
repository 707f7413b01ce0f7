package api

import (
	"fmt"
	"io"

	"github.com/switchyard/switchyard/runtime"
)

// DecodeCreateSpec reads the body of a create, one JSON runtime.CreateSpec,
// strictly (unknown fields and trailing data are errors), and checks it
// with CreateSpec.Validate. Empty lists and maps become nil, so a request
// survives a round trip unchanged. The error wraps
// runtime.ErrInvalidArgument and says what was wrong.
func DecodeCreateSpec(r io.Reader) (*runtime.CreateSpec, error) {
	var cs *runtime.CreateSpec
	if err := Decode(r, &cs, "create spec"); err != nil {
		return nil, err
	}
	if cs == nil {
		return nil, fmt.Errorf("create spec: the body is null: send a JSON object such as {\"image\":\"busybox\"}: %w", runtime.ErrInvalidArgument)
	}
	cs.Entrypoint = nilIfEmpty(cs.Entrypoint)
	cs.Args = nilIfEmpty(cs.Args)
	cs.Env = nilIfEmpty(cs.Env)
	cs.Volumes = nilIfEmpty(cs.Volumes)
	if len(cs.Labels) == 0 {
		cs.Labels = nil
	}
	if cs.Platform != nil {
		cs.Platform.OSFeatures = nilIfEmpty(cs.Platform.OSFeatures)
	}
	if err := cs.Validate(); err != nil {
		return nil, err
	}
	return cs, nil
}

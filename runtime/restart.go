package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// LabelRestart holds the restart policy of a container made outside a
// deployment (docker run --restart, switchyard run --restart): the node's
// agent restarts the container by it, as dockerd does, and finds it again
// after its own restart. Deployed services say theirs in their spec.
const LabelRestart = "switchyard.restart"

// RestartPolicy is a container's restart policy, docker's.
type RestartPolicy struct {
	// Name is no, always, unless-stopped or on-failure.
	Name string
	// MaxRetries bounds on-failure's restarts; 0 for no bound.
	MaxRetries int
}

// String is the policy as LabelRestart and docker's --restart write it:
// always, unless-stopped, on-failure or on-failure:N.
func (p RestartPolicy) String() string {
	if p.Name == "on-failure" && p.MaxRetries > 0 {
		return p.Name + ":" + strconv.Itoa(p.MaxRetries)
	}
	return p.Name
}

// ParseRestartPolicy reads a policy as docker's --restart writes it: no,
// always, unless-stopped, on-failure or on-failure:N. The error wraps
// ErrInvalidArgument.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, max, hasMax := strings.Cut(s, ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "no", "always", "unless-stopped":
		if hasMax {
			return RestartPolicy{}, fmt.Errorf("restart policy %q: only on-failure takes a maximum: %w", s, ErrInvalidArgument)
		}
	case "on-failure":
		if hasMax {
			n, err := strconv.Atoi(max)
			if err != nil || n < 0 {
				return RestartPolicy{}, fmt.Errorf("restart policy %q: want on-failure:N, N a number of restarts: %w", s, ErrInvalidArgument)
			}
			p.MaxRetries = n
		}
	default:
		return RestartPolicy{}, fmt.Errorf("restart policy %q: want no, always, unless-stopped, on-failure or on-failure:N: %w", s, ErrInvalidArgument)
	}
	return p, nil
}

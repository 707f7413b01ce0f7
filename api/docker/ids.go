package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// LabelID holds the 64-hex id docker clients know a container by, for the
// containers this front door creates; the id of any other container is
// derived from its name and creation time. It is switchyard's own: the
// front door does not show it among a container's labels.
const LabelID = "switchyard.docker.id"

// dockerID returns the id docker clients see for c: stable across renames
// for the containers made here, and stable for the life of any other.
func dockerID(c runtime.Container) string {
	if id := c.Labels[LabelID]; id != "" {
		return id
	}
	sum := sha256.Sum256([]byte(c.ID.String() + "@" + c.Created.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:])
}

// dockerName returns the name docker clients see for c, without docker's
// leading "/": a container made here is its service name (it is always
// replica 0); any other is its switchyard name, web-rep-1.
func dockerName(c runtime.Container) string {
	if c.Labels[LabelID] != "" && c.ID.Replica == 0 {
		return c.ID.Service
	}
	return c.ID.String()
}

// userLabels returns c's labels without switchyard's own.
func userLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		if k != LabelID && k != runtime.LabelRestart {
			out[k] = v
		}
	}
	return out
}

// resolve finds the container ref names, as dockerd does: a whole id, a
// name (with or without the leading "/"), or a unique prefix of an id.
func (s *Server) resolve(ctx context.Context, ref string) (runtime.Container, error) {
	cs, err := s.rt.List(ctx)
	if err != nil {
		return runtime.Container{}, err
	}
	name := strings.TrimPrefix(ref, "/")
	var prefixed []runtime.Container
	for _, c := range cs {
		id := dockerID(c)
		if id == ref || dockerName(c) == name {
			return c, nil
		}
		if ref != "" && strings.HasPrefix(id, ref) {
			prefixed = append(prefixed, c)
		}
	}
	switch len(prefixed) {
	case 1:
		return prefixed[0], nil
	case 0:
		//lint:ignore ST1005 dockerd's own words, which clients print and scripts match
		return runtime.Container{}, fmt.Errorf("No such container: %s: %w", ref, runtime.ErrNotFound)
	}
	return runtime.Container{}, fmt.Errorf("multiple containers found with provided prefix: %s; give more of the id: %w", ref, runtime.ErrInvalidArgument)
}

package docker

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

func (s *Server) imageRoutes() {
	s.handle("POST /images/create", s.pull)
}

// pull answers POST /images/create?fromImage=REPO&tag=TAG[&platform=P]
// with docker's progress stream, one JSON message per line; a failure
// after the stream began is its last message, as dockerd writes it.
func (s *Server) pull(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref := q.Get("fromImage")
	if ref == "" {
		return fmt.Errorf("pull: fromImage is empty: name the image to pull (importing with fromSrc is not supported): %w", runtime.ErrInvalidArgument)
	}
	if tag := q.Get("tag"); tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	opts := runtime.PullOptions{Policy: runtime.PullAlways}
	if p := q.Get("platform"); p != "" {
		plat, err := spec.ParsePlatform(p)
		if err != nil {
			return fmt.Errorf("platform: %v: %w", err, runtime.ErrInvalidArgument)
		}
		opts.Platform = &plat
	}
	if h := r.Header.Get("X-Registry-Auth"); h != "" {
		ac, err := authconfig.Decode(h)
		if err != nil {
			return fmt.Errorf("X-Registry-Auth: %v: %w", err, runtime.ErrInvalidArgument)
		}
		if ac.Username != "" || ac.Password != "" || ac.IdentityToken != "" || ac.RegistryToken != "" {
			tok := ac.IdentityToken
			if tok == "" {
				tok = ac.RegistryToken
			}
			opts.Auth = &runtime.RegistryAuth{Username: ac.Username, Password: ac.Password, Token: tok}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	send := func(m jsonstream.Message) {
		_ = enc.Encode(m)
		if fl != nil {
			fl.Flush()
		}
	}
	send(jsonstream.Message{Status: "Pulling from " + ref, ID: ref})
	progress := make(chan runtime.PullProgress, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range progress {
			m := jsonstream.Message{ID: shortDigest(p.ID), Status: pullStatus(p.Status)}
			if p.Total > 0 {
				m.Progress = &jsonstream.Progress{Current: p.Current, Total: p.Total}
			}
			send(m)
		}
	}()
	opts.Progress = func(p runtime.PullProgress) {
		select {
		case progress <- p:
		default: // a slow client loses progress lines, never the pull
		}
	}
	info, err := s.rt.Pull(r.Context(), ref, opts)
	close(progress)
	<-done
	if err != nil {
		send(jsonstream.Message{Error: &jsonstream.Error{Message: err.Error()}})
		return nil
	}
	if info.Digest != "" {
		send(jsonstream.Message{Status: "Digest: " + info.Digest})
	}
	send(jsonstream.Message{Status: "Status: Downloaded newer image for " + info.Reference})
	return nil
}

// shortDigest is a layer's id as docker shows it: twelve hex characters.
func shortDigest(id string) string {
	if d, ok := strings.CutPrefix(id, "sha256:"); ok && len(d) >= 12 {
		return d[:12]
	}
	return id
}

// pullStatus gives the store's progress words docker's.
func pullStatus(s string) string {
	switch s {
	case "downloading":
		return "Downloading"
	case "done":
		return "Pull complete"
	case "exists":
		return "Already exists"
	}
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

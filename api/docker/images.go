package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

func (s *Server) imageRoutes() {
	s.handle("POST /images/create", s.pull)
	s.handle("GET /images/json", s.listImages)
	s.handle("POST /images/prune", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.rt.PruneImages(r.Context())
		if err != nil {
			return err
		}
		rep := image.PruneReport{ImagesDeleted: []image.DeleteResponse{}, SpaceReclaimed: res.SpaceReclaimed}
		for _, d := range res.Deleted {
			rep.ImagesDeleted = append(rep.ImagesDeleted, image.DeleteResponse{Deleted: d})
		}
		writeJSON(w, http.StatusOK, rep)
		return nil
	})
	// Image names hold slashes: the rest of the path is the name, then
	// what is asked of it.
	s.handle("GET /images/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
		name, ok := strings.CutSuffix(r.PathValue("rest"), "/json")
		if !ok {
			return fmt.Errorf("GET /images/%s is not implemented by switchyard's Docker API yet: %w", r.PathValue("rest"), runtime.ErrNotSupported)
		}
		info, err := s.findImage(r.Context(), name)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, inspectImage(info))
		return nil
	})
	s.handle("POST /images/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
		name, ok := strings.CutSuffix(r.PathValue("rest"), "/tag")
		if !ok {
			return fmt.Errorf("POST /images/%s is not implemented by switchyard's Docker API yet: %w", r.PathValue("rest"), runtime.ErrNotSupported)
		}
		info, err := s.findImage(r.Context(), name)
		if err != nil {
			return err
		}
		repo, tag := r.URL.Query().Get("repo"), r.URL.Query().Get("tag")
		if repo == "" {
			return fmt.Errorf("tag: repo is empty: name the new reference: %w", runtime.ErrInvalidArgument)
		}
		dst := repo
		if tag != "" {
			dst += ":" + tag
		}
		if err := s.rt.TagImage(r.Context(), info.Reference, dst); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	s.handle("DELETE /images/{rest...}", func(w http.ResponseWriter, r *http.Request) error {
		force, err := boolParam(r, "force")
		if err != nil {
			return err
		}
		info, err := s.findImage(r.Context(), r.PathValue("rest"))
		if err != nil {
			return err
		}
		if err := s.rt.RemoveImage(r.Context(), info.Reference, force); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, []image.DeleteResponse{{Untagged: info.Reference}})
		return nil
	})
}

// findImage finds the image name names: a reference as stored, the same
// with :latest, or its id (the digest) or a prefix of it.
func (s *Server) findImage(ctx context.Context, name string) (runtime.ImageInfo, error) {
	imgs, err := s.rt.ListImages(ctx)
	if err != nil {
		return runtime.ImageInfo{}, err
	}
	hex := strings.TrimPrefix(name, "sha256:")
	for _, img := range imgs {
		if img.Reference == name || img.Reference == name+":latest" {
			return img, nil
		}
	}
	for _, img := range imgs {
		if len(hex) >= 4 && strings.HasPrefix(strings.TrimPrefix(img.Digest, "sha256:"), hex) {
			return img, nil
		}
	}
	//lint:ignore ST1005 dockerd's own words, which clients print and match
	return runtime.ImageInfo{}, fmt.Errorf("No such image: %s: %w", name, runtime.ErrNotFound)
}

// listImages answers docker images: one entry per image (digest), with
// every reference that names it.
func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	imgs, err := s.rt.ListImages(r.Context())
	if err != nil {
		return err
	}
	byID := map[string]*image.Summary{}
	out := []*image.Summary{}
	for _, img := range imgs {
		sum := byID[img.Digest]
		if sum == nil {
			sum = &image.Summary{ID: img.Digest, Created: img.Created.Unix(), Size: img.Size, Containers: -1, SharedSize: -1,
				Labels: map[string]string{}, RepoTags: []string{}, RepoDigests: []string{}}
			byID[img.Digest] = sum
			out = append(out, sum)
		}
		if strings.Contains(img.Reference, "@") {
			sum.RepoDigests = append(sum.RepoDigests, img.Reference)
		} else {
			sum.RepoTags = append(sum.RepoTags, img.Reference)
			if repo, _, ok := cutTag(img.Reference); ok {
				sum.RepoDigests = append(sum.RepoDigests, repo+"@"+img.Digest)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// cutTag splits repo:tag, minding a registry's port.
func cutTag(ref string) (repo, tag string, ok bool) {
	i := strings.LastIndexByte(ref, ':')
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, "", false
	}
	return ref[:i], ref[i+1:], true
}

func inspectImage(img runtime.ImageInfo) image.InspectResponse {
	resp := image.InspectResponse{ID: img.Digest, RepoTags: []string{img.Reference}, RepoDigests: []string{}, Size: img.Size}
	if !img.Created.IsZero() {
		resp.Created = rfc3339(img.Created)
	}
	if repo, _, ok := cutTag(img.Reference); ok {
		resp.RepoDigests = append(resp.RepoDigests, repo+"@"+img.Digest)
	}
	if ps := img.PresentPlatforms(); len(ps) > 0 {
		resp.Os, resp.Architecture, resp.Variant = ps[0].OS, ps[0].Architecture, ps[0].Variant
	}
	return resp
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

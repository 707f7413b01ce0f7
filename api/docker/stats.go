package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/switchyard/switchyard/runtime"
)

// statsInterval is docker's: one sample a second, and the CPU share is
// measured over that second.
const statsInterval = time.Second

func (s *Server) statsRoutes() {
	s.handle("GET /containers/{id}/stats", s.withContainer(s.stats))
	s.handle("POST /containers/{id}/rename", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		name := strings.TrimPrefix(r.URL.Query().Get("name"), "/")
		if msg := runtime.CheckName(name, "container name"); msg != "" {
			return fmt.Errorf("rename: %s: %w", msg, runtime.ErrInvalidArgument)
		}
		if other, err := s.resolve(ctx, name); err == nil && dockerName(other) == name {
			//lint:ignore ST1005 dockerd's own words, which clients print and match
			return fmt.Errorf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name: %w", name, dockerID(other), runtime.ErrAlreadyExists)
		}
		if err := s.rt.Rename(ctx, c.ID, runtime.ContainerID{Service: name}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
}

// stats writes docker's stats documents: with stream=0 one, whose CPU
// share is measured over a second as dockerd's is; else one a second
// until the client goes or the container is gone.
func (s *Server) stats(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
	stream := true
	if v := r.URL.Query().Get("stream"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("stream=%q: want 1, 0, true or false: %w", v, runtime.ErrInvalidArgument)
		}
		stream = b
	}
	prev, err := s.sample(ctx, c)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, err := s.sample(ctx, c)
		if err != nil {
			return nil // gone: the stream ends
		}
		cur.PreCPUStats, cur.PreRead = prev.CPUStats, prev.Read
		if enc.Encode(cur) != nil {
			return nil
		}
		if fl != nil {
			fl.Flush()
		}
		if !stream {
			return nil
		}
		prev = cur
	}
}

func (s *Server) sample(ctx context.Context, c runtime.Container) (container.StatsResponse, error) {
	st, err := s.rt.Stats(ctx, c.ID)
	if err != nil {
		return container.StatsResponse{}, err
	}
	resp := container.StatsResponse{ID: dockerID(c), Name: "/" + dockerName(c), OSType: "linux", Read: st.Timestamp}
	if st.CPUUsageUsec != nil {
		resp.CPUStats.CPUUsage.TotalUsage = *st.CPUUsageUsec * 1000
	}
	resp.CPUStats.SystemUsage = systemCPUNanos()
	resp.CPUStats.OnlineCPUs = uint32(goruntime.NumCPU())
	resp.MemoryStats.Usage, resp.MemoryStats.Limit = st.MemoryBytes, st.MemoryLimit
	if resp.MemoryStats.Limit == 0 {
		resp.MemoryStats.Limit = uint64(memTotal())
	}
	resp.PidsStats.Current = st.PIDs
	return resp, nil
}

// systemCPUNanos is the host's CPU time in nanoseconds, from /proc/stat's
// first line (in USER_HZ ticks, 100 a second), as dockerd reports it.
func systemCPUNanos() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks uint64
	for _, v := range f[1:8] {
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return ticks * uint64(time.Second/100)
}

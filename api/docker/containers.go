package docker

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/switchyard/switchyard/runtime"
)

// defaultStopTimeout is docker's: SIGKILL ten seconds after the stop
// signal.
const defaultStopTimeout = 10 * time.Second

func (s *Server) containerRoutes() {
	s.handle("GET /containers/json", s.listContainers)
	s.handle("GET /containers/{id}/json", s.inspectContainer)
	s.handle("POST /containers/{id}/start", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		if running(c.State) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		if err := s.rt.Start(ctx, c.ID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	s.handle("POST /containers/{id}/stop", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		timeout, err := stopTimeout(r)
		if err != nil {
			return err
		}
		if !running(c.State) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		if err := s.rt.Stop(ctx, c.ID, timeout); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	s.handle("POST /containers/{id}/restart", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		timeout, err := stopTimeout(r)
		if err != nil {
			return err
		}
		if err := s.rt.Stop(ctx, c.ID, timeout); err != nil {
			return err
		}
		if err := s.rt.Start(ctx, c.ID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	s.handle("POST /containers/{id}/kill", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		if !running(c.State) {
			return fmt.Errorf("cannot kill container: %s: container %s is not running: %w", r.PathValue("id"), dockerID(c), runtime.ErrFailedPrecondition)
		}
		if err := s.rt.Kill(ctx, c.ID, r.URL.Query().Get("signal")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	s.handle("DELETE /containers/{id}", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		force, err := boolParam(r, "force")
		if err != nil {
			return err
		}
		if running(c.State) && !force {
			return fmt.Errorf("cannot remove container %q: container is running: stop the container before removing or force remove: %w", "/"+dockerName(c), runtime.ErrFailedPrecondition)
		}
		if err := s.rt.Remove(ctx, c.ID, force); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	s.handle("POST /containers/{id}/wait", s.withContainer(s.wait))
	s.handle("GET /containers/{id}/logs", s.withContainer(s.logs))
}

// handle serves pattern with h, writing h's error the docker way.
func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// withContainer resolves the {id} of the path before h runs.
func (s *Server) withContainer(h func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.resolve(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return h(r.Context(), c, w, r)
	}
}

func running(st runtime.State) bool {
	return st.Status == runtime.StatusRunning || st.Status == runtime.StatusStopping
}

// stopTimeout reads docker's t (seconds; -1 waits for ever).
func stopTimeout(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("t")
	if v == "" {
		return defaultStopTimeout, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("t=%q: want a number of seconds: %w", v, runtime.ErrInvalidArgument)
	case n < 0:
		return 365 * 24 * time.Hour, nil
	}
	return time.Duration(n) * time.Second, nil
}

// boolParam reads a query flag as docker clients write them: 1, true,
// 0, false, or absent.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want 1, 0, true or false: %w", name, v, runtime.ErrInvalidArgument)
	}
	return b, nil
}

// streamParams reads which of the workload's streams a log or attach
// request asks for.
func streamParams(r *http.Request) (stdout, stderr bool, err error) {
	if stdout, err = boolParam(r, "stdout"); err != nil {
		return false, false, err
	}
	stderr, err = boolParam(r, "stderr")
	return stdout, stderr, err
}

// dockerState maps a runtime state to docker's words.
func dockerState(st runtime.State) container.ContainerState {
	switch st.Status {
	case runtime.StatusPending:
		return container.StateCreated
	case runtime.StatusRunning, runtime.StatusStopping:
		return container.StateRunning
	case runtime.StatusExited:
		return container.StateExited
	}
	return container.StateDead
}

// statusText is docker ps's STATUS: "Up 3 minutes", "Exited (0) 2 seconds
// ago", "Created".
func statusText(d runtime.Details, now time.Time) string {
	switch dockerState(d.State) {
	case container.StateCreated:
		return "Created"
	case container.StateRunning:
		text := "Up " + units.HumanDuration(now.Sub(d.StartedAt))
		if d.Health != "" {
			text += " (" + d.Health + ")"
		}
		return text
	case container.StateExited:
		if d.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", d.State.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", d.State.ExitCode, units.HumanDuration(now.Sub(d.FinishedAt)))
	}
	return "Dead: " + d.State.Reason
}

// filters is docker's filters parameter: {"label": ["k=v"], ...}.
type filters map[string][]string

func parseFilters(r *http.Request) (filters, error) {
	v := r.URL.Query().Get("filters")
	if v == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("filters %q: want a JSON object such as {\"label\":[\"k=v\"]}: %w", v, runtime.ErrInvalidArgument)
	}
	f := filters{}
	for k, m := range raw {
		// Both forms clients send: ["a","b"] and the older {"a":true}.
		var list []string
		if err := json.Unmarshal(m, &list); err != nil {
			var set map[string]bool
			if err := json.Unmarshal(m, &set); err != nil {
				return nil, fmt.Errorf("filters: %q: want a list of strings: %w", k, runtime.ErrInvalidArgument)
			}
			for s := range set {
				list = append(list, s)
			}
		}
		f[k] = list
	}
	return f, nil
}

// matchContainer reports whether c passes every filter; an unknown filter
// is an error, as dockerd's.
func (f filters) matchContainer(c runtime.Container) (bool, error) {
	return f.match("label, status, name, id or ancestor", func(key, v string) (bool, bool) {
		switch key {
		case "label":
			return hasLabel(c.Labels, v), true
		case "status":
			return string(dockerState(c.State)) == v, true
		case "name":
			return strings.Contains(dockerName(c), strings.TrimPrefix(v, "/")), true
		case "id":
			return strings.HasPrefix(dockerID(c), v), true
		case "ancestor":
			return c.Image == v || strings.TrimSuffix(c.Image, ":latest") == v, true
		}
		return false, false
	})
}

// match applies docker's filter rules with test, which answers for one
// key and value (known false for a key it does not know): every key must
// pass; a key passes when any of its values does, except label, whose
// values must all (label=a=1 and label=b=2 is both). An unknown key is an
// error naming the known ones, as dockerd's.
func (f filters) match(known string, test func(key, value string) (ok, isKnown bool)) (bool, error) {
	for key, values := range f {
		ok := key == "label" // every label must match; any other value
		for _, v := range values {
			pass, isKnown := test(key, v)
			if !isKnown {
				return false, fmt.Errorf("invalid filter '%s': use %s: %w", key, known, runtime.ErrInvalidArgument)
			}
			if key == "label" {
				if !pass {
					return false, nil
				}
				continue
			}
			if pass {
				ok = true
				break
			}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// hasLabel reports whether labels has the filter's label: "k" or "k=v".
func hasLabel(labels map[string]string, filter string) bool {
	k, want, hasValue := strings.Cut(filter, "=")
	got, has := labels[k]
	return has && (!hasValue || got == want)
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request) error {
	all, err := boolParam(r, "all")
	if err != nil {
		return err
	}
	limit := -1
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("limit=%q: want a number: %w", v, runtime.ErrInvalidArgument)
		}
	}
	f, err := parseFilters(r)
	if err != nil {
		return err
	}
	// Each container's records are read once, for the list and for what
	// docker's list shows of its inspection.
	ds, err := runtime.ListDetails(r.Context(), s.rt)
	if err != nil {
		return err
	}
	// Newest first, as docker ps lists.
	slices.SortFunc(ds, func(a, b runtime.Details) int { return b.Created.Compare(a.Created) })
	now := time.Now()
	out := []container.Summary{}
	for _, d := range ds {
		c := d.Container
		if !all && !running(c.State) && len(f["status"]) == 0 {
			continue
		}
		if ok, err := f.matchContainer(c); err != nil {
			return err
		} else if !ok {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		sum := container.Summary{
			ID: dockerID(c), Names: []string{"/" + dockerName(c)}, Image: c.Image, ImageID: d.ImageDigest,
			Command: strings.Join(c.Command, " "), Created: c.Created.Unix(), Labels: userLabels(c.Labels),
			State: dockerState(d.State), Status: statusText(d, now),
		}
		for _, p := range d.Ports {
			ip := p.HostIP
			if !ip.IsValid() && p.HostPort != 0 {
				ip = netip.IPv4Unspecified() // every address, as dockerd reports it
			}
			sum.Ports = append(sum.Ports, container.PortSummary{IP: ip, PrivatePort: p.ContainerPort, PublicPort: p.HostPort, Type: p.Proto()})
		}
		sum.HostConfig.NetworkMode = networkMode(d)
		sum.NetworkSettings = &container.NetworkSettingsSummary{Networks: endpoints(d)}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func networkMode(d runtime.Details) string {
	if d.Network == nil || d.Network.Mode == "" {
		return "bridge"
	}
	return d.Network.Mode
}

// logDriver is the logging driver docker clients are told of. A
// container's log here is a file of one JSON object a line, kept by its
// shim and read back by docker logs, which is what json-file is to
// dockerd; clients (docker-py's run, testcontainers) read a container's
// output only from drivers they know to keep it.
const logDriver = "json-file"

// endpoints is the container's one network, as docker reports networks.
func endpoints(d runtime.Details) map[string]*network.EndpointSettings {
	name, ep := endpointOf(d)
	if ep == nil {
		return map[string]*network.EndpointSettings{}
	}
	return map[string]*network.EndpointSettings{name: ep}
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.resolve(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := s.rt.Inspect(r.Context(), c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inspectResponse(d))
	return nil
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func inspectResponse(d runtime.Details) container.InspectResponse {
	st := &container.State{
		Status: dockerState(d.State), Running: running(d.State), Pid: d.PID, ExitCode: d.State.ExitCode,
		StartedAt: rfc3339(d.StartedAt), FinishedAt: rfc3339(d.FinishedAt),
	}
	if d.State.Status == runtime.StatusFailed {
		st.Dead, st.Error = true, d.State.Reason
	}
	if d.Outcome != nil && d.Outcome.Reason == runtime.ReasonOOMKilled {
		st.OOMKilled = true
	}
	if d.Health != "" {
		st.Health = &container.Health{Status: container.HealthStatus(d.Health)}
	}
	resp := container.InspectResponse{
		ID: dockerID(d.Container), Created: rfc3339(d.Created), State: st, Image: d.ImageDigest,
		Name: "/" + dockerName(d.Container), Driver: "overlay", Platform: d.Platform.OS,
		Config: &container.Config{
			Image: d.Image, Env: d.Env, Cmd: d.Command, WorkingDir: d.Workdir, Labels: userLabels(d.Labels),
			Tty: d.TTY, OpenStdin: d.OpenStdin, StdinOnce: d.StdinOnce, AttachStdin: d.OpenStdin, AttachStdout: true, AttachStderr: true,
		},
		HostConfig: &container.HostConfig{
			NetworkMode: container.NetworkMode(networkMode(d)), AutoRemove: d.AutoRemove, Runtime: d.Runtime,
			PortBindings: network.PortMap{},
			LogConfig:    container.LogConfig{Type: logDriver, Config: map[string]string{}},
		},
		NetworkSettings: &container.NetworkSettings{Ports: network.PortMap{}, Networks: endpoints(d)},
	}
	resp.HostConfig.RestartPolicy.Name = container.RestartPolicyDisabled
	if p, err := runtime.ParseRestartPolicy(d.Labels[runtime.LabelRestart]); err == nil {
		resp.HostConfig.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyMode(p.Name), MaximumRetryCount: p.MaxRetries}
	}
	resp.HostConfig.Memory = d.Resources.MemoryBytes
	resp.HostConfig.NanoCPUs = int64(d.Resources.CPU * 1e9)
	if len(d.Command) > 0 {
		resp.Path, resp.Args = d.Command[0], d.Command[1:]
	}
	for _, p := range d.Ports {
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto()))
		if err != nil {
			continue
		}
		b := network.PortBinding{HostIP: p.HostIP, HostPort: strconv.Itoa(int(p.HostPort))}
		resp.NetworkSettings.Ports[port] = append(resp.NetworkSettings.Ports[port], b)
		resp.HostConfig.PortBindings[port] = append(resp.HostConfig.PortBindings[port], b)
	}
	for _, m := range d.Mounts {
		resp.Mounts = append(resp.Mounts, container.MountPoint{Type: "bind", Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly})
	}
	return resp
}

// wait answers when the container reaches docker's condition: not-running
// (the default), next-exit or removed. The headers go out at once, so the
// client knows its wait is registered before it starts the container.
func (s *Server) wait(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
	cond := runtime.WaitNotRunning
	switch v := r.URL.Query().Get("condition"); v {
	case "", "not-running":
	case "next-exit":
		cond = runtime.WaitNextExit
	case "removed":
		cond = runtime.WaitRemoved
	default:
		return fmt.Errorf("condition=%q: want not-running, next-exit or removed: %w", v, runtime.ErrInvalidArgument)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	resp := container.WaitResponse{}
	o, err := s.rt.WaitOutcome(ctx, c.ID, cond)
	if err != nil {
		resp.Error = &container.WaitExitError{Message: err.Error()}
	} else {
		resp.StatusCode = int64(o.ExitCode)
	}
	_ = json.NewEncoder(w).Encode(resp)
	return nil
}

// logs streams the container's log in docker's framing: each line in a
// frame of its stream (stdcopy's 8-byte header), optionally behind its
// time.
func (s *Server) logs(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	follow, err := boolParam(r, "follow")
	if err != nil {
		return err
	}
	stamps, err := boolParam(r, "timestamps")
	if err != nil {
		return err
	}
	wantOut, wantErr, err := streamParams(r)
	if err != nil {
		return err
	}
	if !wantOut && !wantErr {
		return fmt.Errorf("you must choose at least one stream: pass stdout=1, stderr=1 or both: %w", runtime.ErrInvalidArgument)
	}
	// A container with a terminal has one stream, sent as it is (raw), as
	// dockerd sends it.
	d, err := s.rt.Inspect(ctx, c.ID)
	if err != nil {
		return err
	}
	raw := d.TTY
	tail := runtime.TailAll
	if v := q.Get("tail"); v != "" && v != "all" {
		if tail, err = strconv.Atoi(v); err != nil || tail < 0 {
			return fmt.Errorf("tail=%q: want a number of lines or all: %w", v, runtime.ErrInvalidArgument)
		}
	}
	since, err := timeParam(q.Get("since"), "since")
	if err != nil {
		return err
	}
	until, err := timeParam(q.Get("until"), "until")
	if err != nil {
		return err
	}
	var next func() (runtime.LogEntry, error)
	if follow {
		st, err := s.rt.FollowLogs(ctx, c.ID, tail)
		if err != nil {
			return err
		}
		defer st.Close()
		next = st.Recv
	} else {
		entries, err := s.rt.Logs(ctx, c.ID, tail)
		if err != nil {
			return err
		}
		next = func() (runtime.LogEntry, error) {
			if len(entries) == 0 {
				return runtime.LogEntry{}, io.EOF
			}
			e := entries[0]
			entries = entries[1:]
			return e, nil
		}
	}
	w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for {
		e, err := next()
		if err != nil {
			return nil // the end of the log, or of the client; the status is sent
		}
		if (!since.IsZero() && e.Time.Before(since)) || (!until.IsZero() && e.Time.After(until)) {
			continue
		}
		b, ok := logFrame(e, wantOut, wantErr, stamps)
		if !ok {
			continue
		}
		if raw {
			b = b[8:] // the payload alone
		}
		if _, err := w.Write(b); err != nil {
			return nil
		}
		if follow && fl != nil {
			fl.Flush()
		}
	}
}

// logFrame frames a log line for its stream, or reports false when that
// stream was not asked for.
func logFrame(e runtime.LogEntry, wantOut, wantErr, stamps bool) ([]byte, bool) {
	stream := byte(1)
	if e.Stream == runtime.Stderr {
		stream = 2
	}
	if (stream == 1 && !wantOut) || (stream == 2 && !wantErr) {
		return nil, false
	}
	line := e.Text
	if !e.Partial {
		line += "\n"
	}
	if stamps {
		line = e.Time.UTC().Format(time.RFC3339Nano) + " " + line
	}
	return frame(stream, line), true
}

// frame is one stdcopy frame: the stream, three zero bytes, the length
// (big-endian) and the payload.
func frame(stream byte, payload string) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0] = stream
	binary.BigEndian.PutUint32(b[4:], uint32(len(payload)))
	return append(b, payload...)
}

// timeParam reads docker's since/until: Unix seconds with an optional
// fraction, as clients send them.
func timeParam(v, name string) (time.Time, error) {
	if v == "" || v == "0" {
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s=%q: want Unix seconds: %w", name, v, runtime.ErrInvalidArgument)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

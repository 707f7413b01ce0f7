package cri

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// The labels a CRI container carries in the runtime, so that the node's
// other front doors and its collection can tell whose it is.
const (
	// LabelContainerID holds the container's CRI id.
	LabelContainerID = "switchyard.cri.id"
	// LabelPodID holds the id of its pod sandbox.
	LabelPodID = "switchyard.cri.pod"
)

// ctrRecord is what the node keeps of a CRI container, in
// ROOT/cri/containers/ID.json: what CRI asked for that the runtime has no
// field for. The runtime's own record holds the rest; the container is
// the runtime's container Name.
type ctrRecord struct {
	ID          string              `json:"id"`
	PodID       string              `json:"pod_id"`
	Name        runtime.ContainerID `json:"name"`
	Metadata    ctrMetadata         `json:"metadata"`
	Image       string              `json:"image"`
	ImageRef    string              `json:"image_ref"`
	Labels      map[string]string   `json:"labels,omitempty"`
	Annotations map[string]string   `json:"annotations,omitempty"`
	LogPath     string              `json:"log_path,omitempty"`
	Created     time.Time           `json:"created"`
	Mounts      []*runtimeapi.Mount `json:"mounts,omitempty"`
	User        *userRecord         `json:"user,omitempty"`
	Resources   runtime.Resources   `json:"resources,omitzero"`
}

type ctrMetadata struct {
	Name    string `json:"name"`
	Attempt uint32 `json:"attempt"`
}

type userRecord struct {
	UID    int64   `json:"uid"`
	GID    int64   `json:"gid"`
	Groups []int64 `json:"groups,omitempty"`
}

func (s *Server) ctrsDir() string { return filepath.Join(s.opts.root, "cri", "containers") }

func (s *Server) ctrPath(id string) string { return filepath.Join(s.ctrsDir(), id+".json") }

func (s *Server) readCtr(id string) (*ctrRecord, error) {
	var rec ctrRecord
	ok, err := statedir.ReadJSON(s.ctrPath(id), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	if rec.ID != id {
		return nil, fmt.Errorf("container %s: its record does not describe it: %w", id, runtime.ErrFailedPrecondition)
	}
	return &rec, nil
}

// findCtr resolves a container id or a unique prefix of one.
func (s *Server) findCtr(ref string) (*ctrRecord, error) {
	id, err := resolveID(ref, "container", "create", s.ctrIDs)
	if err != nil {
		return nil, err
	}
	return s.readCtr(id)
}

// resolveID resolves ref, an id or a unique prefix of one, among the ids
// list gives (read only for a prefix). what names the kind of thing and
// verb the call that made it, for the errors. An id that cannot be ours
// (not hex digits) is not found, which a stop or a removal takes as done.
func resolveID(ref, what, verb string, list func() ([]string, error)) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("%s id is empty: give the id %s gave, or a prefix of it: %w", what, verb, runtime.ErrInvalidArgument)
	}
	if !isPodID(ref) {
		return "", fmt.Errorf("%s %q: no such %s (its ids are hex digits, as %s gave): %w", what, ref, what, verb, runtime.ErrNotFound)
	}
	if len(ref) == 64 {
		return ref, nil
	}
	ids, err := list()
	if err != nil {
		return "", err
	}
	var match string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			if match != "" {
				return "", fmt.Errorf("%s id prefix %s is ambiguous; give more of it: %w", what, ref, runtime.ErrInvalidArgument)
			}
			match = id
		}
	}
	if match == "" {
		return "", fmt.Errorf("%s %s: %w", what, ref, runtime.ErrNotFound)
	}
	return match, nil
}

// filteredCtrs reads the records of the containers that CRI's common
// filters select: an id or a prefix of one, a pod, labels that must all
// match.
func (s *Server) filteredCtrs(id, podID string, labels map[string]string) ([]*ctrRecord, error) {
	ids, err := s.ctrIDs()
	if err != nil {
		return nil, err
	}
	var out []*ctrRecord
	for _, cid := range ids {
		if id != "" && !strings.HasPrefix(cid, id) {
			continue
		}
		rec, err := s.readCtr(cid)
		if err != nil {
			continue // removed meanwhile
		}
		if podID != "" && !strings.HasPrefix(rec.PodID, podID) {
			continue
		}
		if !labelsMatch(rec.Labels, labels) {
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

// ctrIDs lists the ids of the containers recorded.
func (s *Server) ctrIDs() ([]string, error) {
	return listIDs(s.ctrsDir(), func(name string) (string, bool) {
		id, ok := strings.CutSuffix(name, ".json")
		return id, ok && isPodID(id) && len(id) == 64
	})
}

// listIDs lists the ids that the entries of dir name, as id reads them
// from an entry's name; a missing dir has none.
func listIDs(dir string, id func(name string) (string, bool)) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if v, ok := id(e.Name()); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// podCtrs lists the records of the pod's containers.
func (s *Server) podCtrs(podID string) []*ctrRecord {
	ids, _ := s.ctrIDs()
	var out []*ctrRecord
	for _, id := range ids {
		if rec, err := s.readCtr(id); err == nil && rec.PodID == podID {
			out = append(out, rec)
		}
	}
	return out
}

// runtimeName is the container's name in the runtime: what `switchyard
// ps` and the Docker API show, k8s_NAME_POD_NAMESPACE_ID, as the
// kubelet's dockershim named them, cut to a name's 128 characters.
func runtimeName(name string, pod *podRecord, id string) runtime.ContainerID {
	svc := "k8s_" + name + "_" + pod.Metadata.Name + "_" + pod.Metadata.Namespace + "_" + id[:12]
	if len(svc) > 120 || runtime.ValidateServiceName(svc) != nil {
		svc = "k8s_" + id[:12]
	}
	return runtime.ContainerID{Service: svc}
}

// CreateContainer implements RuntimeService: the container is made in its
// pod's namespaces, on the runtime the pod's handler names or, without
// one, the runtime the image's platform selects.
func (s *Server) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	id, err := s.createContainer(ctx, req)
	if err != nil {
		return nil, s.grpcError(ctx, "CreateContainer", err)
	}
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}

func (s *Server) createContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (string, error) {
	cfg := req.GetConfig()
	if cfg.GetMetadata().GetName() == "" {
		return "", fmt.Errorf("container: metadata needs a name: %w", runtime.ErrInvalidArgument)
	}
	if cfg.GetImage().GetImage() == "" {
		return "", fmt.Errorf("container %s: no image: give image.image: %w", cfg.GetMetadata().GetName(), runtime.ErrInvalidArgument)
	}
	pod, unlock, err := s.lockPod(req.GetPodSandboxId())
	if err != nil {
		return "", err
	}
	defer unlock()
	if !pod.ready() {
		return "", fmt.Errorf("pod sandbox %s is not ready (stopped, or its namespaces went with a restart of the machine); run the pod again: %w", pod.ID, runtime.ErrFailedPrecondition)
	}
	// One container of a name and attempt per pod, as the kubelet counts
	// on.
	for _, c := range s.podCtrs(pod.ID) {
		if c.Metadata.Name == cfg.GetMetadata().GetName() && c.Metadata.Attempt == cfg.GetMetadata().GetAttempt() {
			return "", fmt.Errorf("container %s (attempt %d) of pod %s exists already as %s; remove it first: %w",
				c.Metadata.Name, c.Metadata.Attempt, pod.Metadata.Name, c.ID, runtime.ErrAlreadyExists)
		}
	}
	img, err := s.findImage(ctx, cfg.GetImage().GetImage())
	if err != nil {
		return "", err
	}
	if img == nil {
		return "", fmt.Errorf("container %s: image %s is not here; pull it first (crictl pull): %w", cfg.GetMetadata().GetName(), cfg.GetImage().GetImage(), runtime.ErrNotFound)
	}
	ref := cfg.GetImage().GetImage()
	if strings.HasPrefix(ref, "sha256:") || isPodID(ref) && len(ref) == 64 {
		// An image id (the kubelet sends one): any of its references.
		if len(img.RepoTags) > 0 {
			ref = img.RepoTags[0]
		} else if len(img.RepoDigests) > 0 {
			ref = img.RepoDigests[0]
		}
	}
	var rnd [32]byte
	_, _ = rand.Read(rnd[:])
	rec := &ctrRecord{
		ID: hex.EncodeToString(rnd[:]), PodID: pod.ID,
		Metadata: ctrMetadata{Name: cfg.GetMetadata().GetName(), Attempt: cfg.GetMetadata().GetAttempt()},
		Image:    cfg.GetImage().GetImage(), ImageRef: img.Id,
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), Created: time.Now(), Mounts: cfg.GetMounts(),
	}
	rec.Name = runtimeName(rec.Metadata.Name, pod, rec.ID)
	if pod.LogDir != "" && cfg.GetLogPath() != "" {
		if !filepath.IsLocal(cfg.GetLogPath()) {
			return "", fmt.Errorf("container %s: log path %q: want a path inside the pod's log directory (no .., not absolute): %w", rec.Metadata.Name, cfg.GetLogPath(), runtime.ErrInvalidArgument)
		}
		rec.LogPath = filepath.Join(pod.LogDir, cfg.GetLogPath())
		// The file is there from the create on, empty until the container
		// writes, as a kubelet's log reader expects.
		if err := os.MkdirAll(filepath.Dir(rec.LogPath), 0o755); err != nil {
			return "", fmt.Errorf("container %s: log path: %w", rec.Metadata.Name, err)
		}
		// Not through a link: the directory may be a container's too.
		f, err := os.OpenFile(rec.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
		if err != nil {
			return "", fmt.Errorf("container %s: log path %s: %w", rec.Metadata.Name, rec.LogPath, err)
		}
		f.Close()
	}
	cs, err := s.createSpec(ctx, ref, pod, rec, cfg)
	if err != nil {
		return "", err
	}
	rec.Resources = cs.Resources
	if err := os.MkdirAll(s.ctrsDir(), 0o700); err != nil {
		return "", err
	}
	// Recorded first: a create that fails half-way is found and undone by
	// a removal.
	if err := statedir.WriteJSON(s.ctrPath(rec.ID), rec); err != nil {
		return "", err
	}
	if err := s.rt.Create(ctx, rec.Name, cs); err != nil {
		_ = os.Remove(s.ctrPath(rec.ID))
		return "", fmt.Errorf("container %s of pod %s: %w", rec.Metadata.Name, pod.Metadata.Name, err)
	}
	return rec.ID, nil
}

// createSpec turns CRI's container config into the contract's request.
func (s *Server) createSpec(ctx context.Context, ref string, pod *podRecord, rec *ctrRecord, cfg *runtimeapi.ContainerConfig) (*runtime.CreateSpec, error) {
	name := rec.Metadata.Name
	labels := map[string]string{LabelContainerID: rec.ID, LabelPodID: pod.ID}
	for k, v := range cfg.GetLabels() {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	cs := &runtime.CreateSpec{
		Image: ref, Runtime: pod.Handler, Entrypoint: cfg.GetCommand(), Args: cfg.GetArgs(),
		Workdir: cfg.GetWorkingDir(), Labels: labels, LogPath: rec.LogPath,
		TTY: cfg.GetTty(), OpenStdin: cfg.GetStdin(), StdinOnce: cfg.GetStdinOnce(),
		Pod: &runtime.Pod{ID: pod.ID, EtcDir: pod.EtcDir, NetNS: pod.NetNS, Hostname: pod.Hostname, Ports: pod.ContainerPorts},
	}
	if pod.HostNetwork {
		cs.Network.Mode = runtime.NetworkHost
	}
	if a, ok := cfg.GetAnnotations()[AnnotationContainerPorts]; ok {
		ports, err := containerPorts(a)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", name, err)
		}
		cs.Pod.Ports = ports
	}
	for _, kv := range cfg.GetEnvs() {
		if kv.GetKey() == "" {
			return nil, fmt.Errorf("container %s: an environment variable has no name: %w", name, runtime.ErrInvalidArgument)
		}
		cs.Env = append(cs.Env, kv.GetKey()+"="+string(kv.GetValue()))
	}
	for i, m := range cfg.GetMounts() {
		if m.GetImage() != nil && m.GetImage().GetImage() != "" {
			return nil, unimplemented{fmt.Errorf("container %s: mounts[%d]: image volumes are not supported here; mount a host path: %w", name, i, runtime.ErrNotSupported)}
		}
		if !filepath.IsAbs(m.GetHostPath()) || !filepath.IsAbs(m.GetContainerPath()) {
			return nil, fmt.Errorf("container %s: mounts[%d]: host path %q and container path %q must be absolute: %w", name, i, m.GetHostPath(), m.GetContainerPath(), runtime.ErrInvalidArgument)
		}
		if _, err := os.Stat(m.GetHostPath()); errors.Is(err, fs.ErrNotExist) {
			// As containerd does: a host path that is not there is made,
			// a directory.
			if err := os.MkdirAll(m.GetHostPath(), 0o755); err != nil {
				return nil, fmt.Errorf("container %s: mounts[%d]: %w", name, i, err)
			}
		}
		v := runtime.Volume{Name: "cri-mount-" + strconv.Itoa(i), Path: m.GetContainerPath(), Source: m.GetHostPath(), ReadOnly: m.GetReadonly(),
			RecursiveReadOnly: m.GetRecursiveReadOnly()}
		switch m.GetPropagation() {
		case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
			v.Propagation = runtime.PropagationSlave
		case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
			v.Propagation = runtime.PropagationShared
		}
		cs.Volumes = append(cs.Volumes, v)
	}
	for i, d := range cfg.GetDevices() {
		if d.GetContainerPath() != d.GetHostPath() {
			return nil, fmt.Errorf("container %s: devices[%d]: %s at %s: a device keeps its host path here; give the same container path: %w", name, i, d.GetHostPath(), d.GetContainerPath(), runtime.ErrNotSupported)
		}
		cs.Security.Devices = append(cs.Security.Devices, runtime.Device{Path: d.GetHostPath(), Access: d.GetPermissions()})
	}
	lx := cfg.GetLinux()
	applyResources(cs, lx.GetResources())
	sc := lx.GetSecurityContext()
	if err := applySecurityContext(cs, sc, name); err != nil {
		return nil, err
	}
	if len(pod.Sysctls) > 0 {
		cs.Security.Sysctls = maps.Clone(pod.Sysctls)
	}
	ns := sc.GetNamespaceOptions()
	pns := pod.Namespaces
	switch {
	case pns.GetIpc() == runtimeapi.NamespaceMode_NODE || ns.GetIpc() == runtimeapi.NamespaceMode_NODE:
		cs.Security.IpcHost = true
	default:
		cs.Pod.IPCNS, cs.Pod.Shm = pod.IPCNS, pod.Shm
	}
	cs.Pod.UTSNS = pod.UTSNS
	switch ns.GetPid() {
	case runtimeapi.NamespaceMode_NODE:
		cs.Security.PidHost = true
	case runtimeapi.NamespaceMode_POD:
		// A pod that shares none gives the container its own.
		if pod.Holder != nil {
			cs.Pod.PIDNS = pod.PIDNS
		}
	case runtimeapi.NamespaceMode_TARGET:
		target, err := s.findCtr(ns.GetTargetId())
		if err != nil {
			return nil, fmt.Errorf("container %s: PID namespace target: %w", name, err)
		}
		pid, err := s.rt.PID(ctx, target.Name)
		if err != nil || pid == 0 {
			return nil, fmt.Errorf("container %s: PID namespace target %s is not running; start it first: %w", name, target.ID, runtime.ErrFailedPrecondition)
		}
		cs.Pod.PIDNS = "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	}
	if cs.Pod.NetNS == "" && !pod.HostNetwork {
		return nil, fmt.Errorf("container %s: pod %s has no network namespace: %w", name, pod.ID, runtime.ErrFailedPrecondition)
	}
	if pod.HostNetwork {
		cs.Pod.NetNS, cs.Pod.EtcDir, cs.Pod.UTSNS = "", "", ""
	}
	return cs, nil
}

// applySecurityContext turns CRI's security context into the contract's.
// CRI's defaults are not docker's: no seccomp profile unless one is asked
// for, and new privileges allowed unless no_new_privs is set.
func applySecurityContext(cs *runtime.CreateSpec, sc *runtimeapi.LinuxContainerSecurityContext, name string) error {
	sec := &cs.Security
	sec.Privileged = sc.GetPrivileged()
	sec.ReadOnlyRootFS = sc.GetReadonlyRootfs()
	sec.AllowNewPrivileges = !sc.GetNoNewPrivs()
	sec.CapAdd = append(sec.CapAdd, sc.GetCapabilities().GetAddCapabilities()...)
	sec.CapDrop = append(sec.CapDrop, sc.GetCapabilities().GetDropCapabilities()...)
	seccomp, err := seccompOf(sc)
	if err != nil {
		return fmt.Errorf("container %s: %w", name, err)
	}
	sec.Seccomp = seccomp
	if sc != nil {
		// Set (even empty) when the kubelet sends them: they replace the
		// defaults.
		sec.MaskedPaths, sec.ReadonlyPaths = sc.MaskedPaths, sc.ReadonlyPaths
	}
	switch {
	case sc.GetRunAsUser() != nil:
		cs.User = strconv.FormatInt(sc.GetRunAsUser().GetValue(), 10)
	case sc.GetRunAsUsername() != "":
		cs.User = sc.GetRunAsUsername()
	}
	if g := sc.GetRunAsGroup(); g != nil {
		if cs.User == "" {
			return fmt.Errorf("container %s: run_as_group needs run_as_user or run_as_username: %w", name, runtime.ErrInvalidArgument)
		}
		cs.User += ":" + strconv.FormatInt(g.GetValue(), 10)
	}
	for _, g := range sc.GetSupplementalGroups() {
		cs.ExtraGroups = append(cs.ExtraGroups, strconv.FormatInt(g, 10))
	}
	cs.StrictGroups = sc.GetSupplementalGroupsPolicy() == runtimeapi.SupplementalGroupsPolicy_Strict
	return nil
}

// StartContainer implements RuntimeService.
func (s *Server) StartContainer(ctx context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "StartContainer", err)
	}
	l := s.pods.lock(rec.PodID)
	l.RLock()
	defer l.RUnlock()
	if pod, err := s.readPod(rec.PodID); err != nil || !pod.ready() {
		return nil, s.grpcError(ctx, "StartContainer", fmt.Errorf("container %s: its pod sandbox %s is not ready; run the pod again: %w", rec.ID, rec.PodID, runtime.ErrFailedPrecondition))
	}
	if err := s.rt.Start(ctx, rec.Name); err != nil {
		return nil, s.grpcError(ctx, "StartContainer", err)
	}
	return &runtimeapi.StartContainerResponse{}, nil
}

// StopContainer implements RuntimeService: the stop signal, then SIGKILL
// after the timeout; stopping a stopped container succeeds.
func (s *Server) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if errors.Is(err, runtime.ErrNotFound) {
		return &runtimeapi.StopContainerResponse{}, nil // as CRI asks
	}
	if err != nil {
		return nil, s.grpcError(ctx, "StopContainer", err)
	}
	if err := s.rt.Stop(ctx, rec.Name, time.Duration(req.GetTimeout())*time.Second); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return nil, s.grpcError(ctx, "StopContainer", err)
	}
	return &runtimeapi.StopContainerResponse{}, nil
}

// RemoveContainer implements RuntimeService: a running container is
// killed first; removing a removed container succeeds, as CRI asks. The
// log at its log path stays: it is the kubelet's.
func (s *Server) RemoveContainer(ctx context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if errors.Is(err, runtime.ErrNotFound) {
		return &runtimeapi.RemoveContainerResponse{}, nil
	}
	if err != nil {
		return nil, s.grpcError(ctx, "RemoveContainer", err)
	}
	l := s.pods.lock(rec.PodID)
	l.RLock()
	defer l.RUnlock()
	if err := s.removeCtr(ctx, rec); err != nil {
		return nil, s.grpcError(ctx, "RemoveContainer", err)
	}
	return &runtimeapi.RemoveContainerResponse{}, nil
}

func (s *Server) removeCtr(ctx context.Context, rec *ctrRecord) error {
	if err := s.rt.Remove(ctx, rec.Name, true); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return err
	}
	if err := os.Remove(s.ctrPath(rec.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ctrState maps the runtime's state to CRI's.
func ctrState(st runtime.Status) runtimeapi.ContainerState {
	switch st {
	case runtime.StatusPending:
		return runtimeapi.ContainerState_CONTAINER_CREATED
	case runtime.StatusRunning, runtime.StatusStopping:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case runtime.StatusExited, runtime.StatusFailed:
		return runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return runtimeapi.ContainerState_CONTAINER_UNKNOWN
}

func (rec *ctrRecord) metadata() *runtimeapi.ContainerMetadata {
	return &runtimeapi.ContainerMetadata{Name: rec.Metadata.Name, Attempt: rec.Metadata.Attempt}
}

// ContainerStatus implements RuntimeService.
func (s *Server) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "ContainerStatus", err)
	}
	st := &runtimeapi.ContainerStatus{
		Id: rec.ID, Metadata: rec.metadata(), CreatedAt: rec.Created.UnixNano(),
		Image: &runtimeapi.ImageSpec{Image: rec.Image}, ImageRef: rec.ImageRef, ImageId: rec.ImageRef,
		Labels: rec.Labels, Annotations: rec.Annotations, Mounts: rec.Mounts, LogPath: rec.LogPath,
		State: runtimeapi.ContainerState_CONTAINER_UNKNOWN,
	}
	if r := rec.Resources; r.CPU > 0 || r.MemoryBytes > 0 || r.CPUShares > 0 || r.Cpuset != "" {
		lr := &runtimeapi.LinuxContainerResources{CpuShares: int64(r.CPUShares), MemoryLimitInBytes: r.MemoryBytes, CpusetCpus: r.Cpuset}
		if r.CPU > 0 {
			lr.CpuPeriod, lr.CpuQuota = 100000, int64(r.CPU*100000)
		}
		st.Resources = &runtimeapi.ContainerResources{Linux: lr}
	}
	d, err := s.rt.Inspect(ctx, rec.Name)
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		st.Reason, st.Message = "NotFound", "the runtime has no container "+rec.Name.String()
	case err != nil:
		st.Reason, st.Message = "Unknown", err.Error()
	default:
		fillStatus(st, d)
		if d.PID > 0 && st.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			st.User = processUser(d.PID)
		}
	}
	resp := &runtimeapi.ContainerStatusResponse{Status: st}
	if req.GetVerbose() {
		b, _ := json.Marshal(map[string]any{"name": rec.Name.String(), "runtime": d.Runtime, "pid": d.PID, "pod": rec.PodID})
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// fillStatus sets st's state, times and exit from the runtime's details.
func fillStatus(st *runtimeapi.ContainerStatus, d runtime.Details) {
	st.State = ctrState(d.State.Status)
	if !d.StartedAt.IsZero() {
		st.StartedAt = d.StartedAt.UnixNano()
	}
	if st.State != runtimeapi.ContainerState_CONTAINER_EXITED {
		return
	}
	// When the end is unknown, the latest time known of the run: it does
	// not move from one status to the next.
	switch {
	case !d.FinishedAt.IsZero():
		st.FinishedAt = d.FinishedAt.UnixNano()
	case !d.StartedAt.IsZero():
		st.FinishedAt = d.StartedAt.UnixNano()
	default:
		st.FinishedAt = d.Created.UnixNano()
	}
	st.ExitCode = int32(d.State.ExitCode)
	if d.Outcome != nil {
		st.ExitCode = int32(d.Outcome.ExitCode)
	}
	if d.State.Status == runtime.StatusFailed && st.ExitCode == 0 {
		// A run the runtime lost (its supervisor gone) did not succeed:
		// a kubelet must not take it for an exit 0.
		st.ExitCode = 255
	}
	switch {
	case d.Outcome != nil && d.Outcome.Reason == runtime.ReasonOOMKilled:
		st.Reason = "OOMKilled"
	case d.State.Status == runtime.StatusFailed:
		st.Reason, st.Message = "Error", d.State.Reason
	case d.State.ExitCode == 0:
		st.Reason = "Completed"
	default:
		st.Reason = "Error"
	}
	if d.Outcome != nil && d.Outcome.Message != "" && st.Message == "" {
		st.Message = d.Outcome.Message
	}
}

// ListContainers implements RuntimeService, with CRI's filters: an id (or
// a prefix), a state, a pod, labels that must all match.
func (s *Server) ListContainers(ctx context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	f := req.GetFilter()
	recs, err := s.filteredCtrs(f.GetId(), f.GetPodSandboxId(), f.GetLabelSelector())
	if err != nil {
		return nil, s.grpcError(ctx, "ListContainers", err)
	}
	states, err := s.runtimeStates(ctx)
	if err != nil {
		return nil, s.grpcError(ctx, "ListContainers", err)
	}
	var out []*runtimeapi.Container
	for _, rec := range recs {
		state := runtimeapi.ContainerState_CONTAINER_UNKNOWN
		if st, ok := states[rec.Name]; ok {
			state = ctrState(st)
		}
		if sv := f.GetState(); sv != nil && sv.GetState() != state {
			continue
		}
		out = append(out, &runtimeapi.Container{Id: rec.ID, PodSandboxId: rec.PodID, Metadata: rec.metadata(),
			Image: &runtimeapi.ImageSpec{Image: rec.Image}, ImageRef: rec.ImageRef, ImageId: rec.ImageRef, State: state,
			CreatedAt: rec.Created.UnixNano(), Labels: rec.Labels, Annotations: rec.Annotations})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt > out[j].CreatedAt })
	return &runtimeapi.ListContainersResponse{Containers: out}, nil
}

// runtimeStates is the state of every CRI container the runtime has, by
// its name there: one list, not an inspection each.
func (s *Server) runtimeStates(ctx context.Context) (map[runtime.ContainerID]runtime.Status, error) {
	cs, err := s.rt.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[runtime.ContainerID]runtime.Status, len(cs))
	for _, c := range cs {
		if c.Labels[LabelContainerID] != "" {
			out[c.ID] = c.State.Status
		}
	}
	return out, nil
}

// ExecSync implements RuntimeService: the command's output and exit code;
// a command still running at the timeout is killed, and the call fails
// with DeadlineExceeded.
func (s *Server) ExecSync(ctx context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "ExecSync", err)
	}
	if len(req.GetCmd()) == 0 {
		return nil, s.grpcError(ctx, "ExecSync", fmt.Errorf("container %s: exec: no command given: %w", rec.ID, runtime.ErrInvalidArgument))
	}
	ectx := ctx
	if t := req.GetTimeout(); t > 0 {
		var cancel context.CancelFunc
		ectx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	st, err := runtime.ExecWith(ectx, s.rt, "of the container", rec.Name, req.GetCmd(), runtime.ExecOptions{})
	if err != nil {
		return nil, s.grpcError(ctx, "ExecSync", err)
	}
	defer st.Close()
	resp := &runtimeapi.ExecSyncResponse{}
	for {
		ev, err := st.Recv()
		if err != nil {
			if ectx.Err() != nil && ctx.Err() == nil {
				return nil, s.grpcError(ctx, "ExecSync", fmt.Errorf("container %s: exec %q: did not end within %d s, and was killed: %w", rec.ID, req.GetCmd(), req.GetTimeout(), context.DeadlineExceeded))
			}
			if errors.Is(err, io.EOF) {
				return resp, nil
			}
			return nil, s.grpcError(ctx, "ExecSync", err)
		}
		switch ev.Kind {
		case runtime.ExecStdout:
			resp.Stdout = append(resp.Stdout, ev.Data...)
		case runtime.ExecStderr:
			resp.Stderr = append(resp.Stderr, ev.Data...)
		case runtime.ExecExit:
			resp.ExitCode = int32(ev.ExitCode)
		}
	}
}

// ContainerStats implements RuntimeService.
func (s *Server) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "ContainerStats", err)
	}
	return &runtimeapi.ContainerStatsResponse{Stats: s.ctrStats(ctx, rec)}, nil
}

// ctrStats samples a container: CPU and memory from the runtime (zero
// for a container that does not run), and the writable layer's use.
func (s *Server) ctrStats(ctx context.Context, rec *ctrRecord) *runtimeapi.ContainerStats {
	cs, _ := s.ctrStatsPIDs(ctx, rec)
	return cs
}

// ctrStatsPIDs is ctrStats and the container's process count.
func (s *Server) ctrStatsPIDs(ctx context.Context, rec *ctrRecord) (*runtimeapi.ContainerStats, uint64) {
	now := time.Now().UnixNano()
	cs := &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{Id: rec.ID, Metadata: rec.metadata(), Labels: rec.Labels, Annotations: rec.Annotations},
		Cpu:        &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{}},
		Memory:     &runtimeapi.MemoryUsage{Timestamp: now, WorkingSetBytes: &runtimeapi.UInt64Value{}},
		WritableLayer: &runtimeapi.FilesystemUsage{Timestamp: now, FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: filepath.Join(s.opts.root)},
			UsedBytes: &runtimeapi.UInt64Value{}, InodesUsed: &runtimeapi.UInt64Value{}},
	}
	st, err := s.rt.Stats(ctx, rec.Name)
	if err != nil {
		return cs, 0
	}
	if st.CPUUsageUsec != nil {
		cs.Cpu.UsageCoreNanoSeconds.Value = *st.CPUUsageUsec * 1000
	}
	cs.Memory.WorkingSetBytes.Value = st.MemoryBytes
	if !st.Timestamp.IsZero() {
		cs.Cpu.Timestamp, cs.Memory.Timestamp = st.Timestamp.UnixNano(), st.Timestamp.UnixNano()
	}
	return cs, st.PIDs
}

// ListContainerStats implements RuntimeService, with CRI's filters: an
// id, a pod, labels.
func (s *Server) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	f := req.GetFilter()
	recs, err := s.filteredCtrs(f.GetId(), f.GetPodSandboxId(), f.GetLabelSelector())
	if err != nil {
		return nil, s.grpcError(ctx, "ListContainerStats", err)
	}
	resp := &runtimeapi.ListContainerStatsResponse{}
	for _, rec := range recs {
		resp.Stats = append(resp.Stats, s.ctrStats(ctx, rec))
	}
	return resp, nil
}

// AnnotationContainerPorts is the annotation in which a kubelet gives a
// container's declared ports (a JSON list of {name, containerPort,
// protocol}), which CRI's container config has no field for.
const AnnotationContainerPorts = "io.kubernetes.container.ports"

// containerPorts reads the TCP ports of AnnotationContainerPorts' value.
func containerPorts(v string) ([]uint16, error) {
	var ports []struct {
		ContainerPort int    `json:"containerPort"`
		Protocol      string `json:"protocol"`
	}
	if err := json.Unmarshal([]byte(v), &ports); err != nil {
		return nil, fmt.Errorf("annotation %s: want a JSON list of {\"containerPort\": N, \"protocol\": \"TCP\"}: %v: %w", AnnotationContainerPorts, err, runtime.ErrInvalidArgument)
	}
	out := []uint16{} // declared, even if none: the pod's ports are not the container's
	for _, p := range ports {
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return nil, fmt.Errorf("annotation %s: port %d: want 1 to 65535: %w", AnnotationContainerPorts, p.ContainerPort, runtime.ErrInvalidArgument)
		}
		if p.Protocol == "" || strings.EqualFold(p.Protocol, "TCP") {
			out = append(out, uint16(p.ContainerPort))
		}
	}
	return out, nil
}

// UpdateContainerResources implements RuntimeService: the container's
// CPU and memory limits change at once, and stay for its next runs.
func (s *Server) UpdateContainerResources(ctx context.Context, req *runtimeapi.UpdateContainerResourcesRequest) (*runtimeapi.UpdateContainerResourcesResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "UpdateContainerResources", err)
	}
	// Under the pod's lock, read again: a removal that came first leaves
	// no record to write back.
	l := s.pods.lock(rec.PodID)
	l.Lock()
	defer l.Unlock()
	if rec, err = s.readCtr(rec.ID); err != nil {
		return nil, s.grpcError(ctx, "UpdateContainerResources", err)
	}
	cs := runtime.CreateSpec{Resources: rec.Resources}
	applyResources(&cs, req.GetLinux())
	if err := runtime.UpdateResources(ctx, s.rt, "of the container", rec.Name, cs.Resources); err != nil {
		return nil, s.grpcError(ctx, "UpdateContainerResources", err)
	}
	rec.Resources = cs.Resources
	if err := statedir.WriteJSON(s.ctrPath(rec.ID), rec); err != nil {
		return nil, s.grpcError(ctx, "UpdateContainerResources", err)
	}
	return &runtimeapi.UpdateContainerResourcesResponse{}, nil
}

// ReopenContainerLog implements RuntimeService: after the kubelet moved
// the log aside, a new file is at the log path at once, and the
// container's supervisor writes there from its next line on.
func (s *Server) ReopenContainerLog(ctx context.Context, req *runtimeapi.ReopenContainerLogRequest) (*runtimeapi.ReopenContainerLogResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "ReopenContainerLog", err)
	}
	if rec.LogPath == "" {
		return nil, s.grpcError(ctx, "ReopenContainerLog", fmt.Errorf("container %s has no log path (its pod has no log directory, or it was made without one): %w", rec.ID, runtime.ErrFailedPrecondition))
	}
	if st, err := s.rt.State(ctx, rec.Name); err != nil || st.Status != runtime.StatusRunning {
		return nil, s.grpcError(ctx, "ReopenContainerLog", fmt.Errorf("container %s is not running: %w", rec.ID, runtime.ErrFailedPrecondition))
	}
	f, err := os.OpenFile(rec.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return nil, s.grpcError(ctx, "ReopenContainerLog", fmt.Errorf("container %s: log path %s: %w", rec.ID, rec.LogPath, err))
	}
	f.Close()
	return &runtimeapi.ReopenContainerLogResponse{}, nil
}

// applyResources sets the limits CRI asks for in cs; nil asks for none.
func applyResources(cs *runtime.CreateSpec, r *runtimeapi.LinuxContainerResources) {
	if r == nil {
		return
	}
	cs.Resources.CPU = 0
	if r.GetCpuQuota() > 0 {
		period := r.GetCpuPeriod()
		if period <= 0 {
			period = 100000
		}
		cs.Resources.CPU = float64(r.GetCpuQuota()) / float64(period)
	}
	cs.Resources.CPUShares = uint64(max(r.GetCpuShares(), 0))
	cs.Resources.MemoryBytes = r.GetMemoryLimitInBytes()
	cs.Resources.Cpuset = r.GetCpusetCpus()
	if adj := int(r.GetOomScoreAdj()); adj != 0 {
		cs.Resources.OOMScoreAdj = &adj
	}
	cs.Resources.MemorySwapBytes = r.GetMemorySwapLimitInBytes()
}

// seccompOf is the contract's seccomp setting for CRI's: the profile's
// field, else the older seccomp_profile_path; neither is unconfined, as
// CRI has it.
func seccompOf(sc *runtimeapi.LinuxContainerSecurityContext) (string, error) {
	if p := sc.GetSeccomp(); p != nil {
		switch p.GetProfileType() {
		case runtimeapi.SecurityProfile_RuntimeDefault:
			return "", nil
		case runtimeapi.SecurityProfile_Unconfined:
			return "unconfined", nil
		case runtimeapi.SecurityProfile_Localhost:
			return localProfile(p.GetLocalhostRef())
		}
		return "", fmt.Errorf("seccomp profile type %v: want RuntimeDefault, Unconfined or Localhost: %w", p.GetProfileType(), runtime.ErrInvalidArgument)
	}
	//lint:ignore SA1019 the older field, which clients before the profile's still send
	switch path := sc.GetSeccompProfilePath(); {
	case path == "" || path == "unconfined":
		return "unconfined", nil
	case path == "runtime/default" || path == "docker/default":
		return "", nil
	case strings.HasPrefix(path, "localhost/"):
		return localProfile(strings.TrimPrefix(path, "localhost/"))
	default:
		return "", fmt.Errorf("seccomp profile path %q: want runtime/default, unconfined or localhost/PATH: %w", path, runtime.ErrInvalidArgument)
	}
}

// localProfile checks a profile on the node: an absolute path.
func localProfile(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("seccomp profile %q: want the absolute path of a profile on the node: %w", p, runtime.ErrInvalidArgument)
	}
	return p, nil
}

// processUser is the identity process pid runs with, from
// /proc/PID/status: what the container's first process got, which is
// what the kubelet reports of it. nil when it cannot be read.
func processUser(pid int) *runtimeapi.ContainerUser {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	u := &runtimeapi.LinuxContainerUser{}
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch key {
		case "Uid", "Gid":
			if len(f) == 0 {
				return nil
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return nil
			}
			if key == "Uid" {
				u.Uid = n
			} else {
				u.Gid = n
			}
			found++
		case "Groups":
			for _, g := range f {
				if n, err := strconv.ParseInt(g, 10, 64); err == nil {
					u.SupplementalGroups = append(u.SupplementalGroups, n)
				}
			}
		}
	}
	if found != 2 {
		return nil
	}
	// CRI counts the primary group among the supplemental ones, as the
	// OCI spec's additional gids do and `id -G` shows.
	if !slices.Contains(u.SupplementalGroups, u.Gid) {
		u.SupplementalGroups = append([]int64{u.Gid}, u.SupplementalGroups...)
	}
	return &runtimeapi.ContainerUser{Linux: u}
}

package docker

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// maxCreateBody bounds a create request's body.
const maxCreateBody = 1 << 20

func (s *Server) createRoutes() {
	s.handle("POST /containers/create", s.create)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) error {
	var req container.CreateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCreateBody))
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("create: the body is not a container configuration: %v: %w", err, runtime.ErrInvalidArgument)
	}
	q := r.URL.Query()
	if hc := req.HostConfig; hc != nil {
		if ref, ok := strings.CutPrefix(string(hc.NetworkMode), runtime.NetworkContainerPrefix); ok {
			// docker names the container by its docker name or id.
			c, err := s.resolve(r.Context(), ref)
			if err != nil {
				return err
			}
			hc.NetworkMode = container.NetworkMode(runtime.NetworkContainerPrefix + c.ID.String())
		}
	}
	cs, warnings, err := convertCreate(req, q.Get("platform"))
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(q.Get("name"), "/")
	if name == "" {
		name = runtime.GeneratedName(cs.Image)
	} else if msg := runtime.CheckName(name, "container name"); msg != "" {
		//lint:ignore ST1005 dockerd's own words, which clients print and match
		return fmt.Errorf("Invalid container name (%s): %s: %w", name, msg, runtime.ErrInvalidArgument)
	}
	if c, err := s.resolve(r.Context(), name); err == nil && dockerName(c) == name {
		//lint:ignore ST1005 dockerd's own words, which clients print and match
		return fmt.Errorf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name: %w", name, dockerID(c), runtime.ErrAlreadyExists)
	}
	id := randomID()
	cs.Labels[LabelID] = id
	if err := s.rt.Create(r.Context(), runtime.ContainerID{Service: name}, cs); err != nil {
		var rp *runtime.RouteToPeerError
		if errors.Is(err, runtime.ErrNotFound) && !errors.As(err, &rp) {
			// The client pulls on this answer and creates again.
			//lint:ignore ST1005 dockerd's own words, which clients print and match
			return fmt.Errorf("No such image: %s: %w", cs.Image, err)
		}
		return err
	}
	writeJSON(w, http.StatusCreated, container.CreateResponse{ID: id, Warnings: warnings})
	return nil
}

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// convertCreate turns docker's create request into the contract's, with
// the warnings docker prints for what was accepted but is not acted on.
// What this node cannot do at all is an error that says so.
func convertCreate(req container.CreateRequest, platform string) (*runtime.CreateSpec, []string, error) {
	if req.Config == nil || req.Image == "" {
		return nil, nil, fmt.Errorf("create: no image: name the image to run: %w", runtime.ErrInvalidArgument)
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	cs := &runtime.CreateSpec{
		Image: req.Image, Runtime: hc.Runtime, Args: req.Cmd, Entrypoint: req.Entrypoint, Env: req.Env,
		Workdir: req.WorkingDir, User: req.User, Hostname: req.Hostname, StopSignal: req.StopSignal,
		AutoRemove: hc.AutoRemove, Labels: map[string]string{}, ExtraGroups: hc.GroupAdd,
		TTY: req.Tty, OpenStdin: req.OpenStdin, StdinOnce: req.StdinOnce,
	}
	if h, w := hc.ConsoleSize[0], hc.ConsoleSize[1]; req.Tty && h > 0 && w > 0 && h <= 0xffff && w <= 0xffff {
		cs.TerminalSize = [2]uint16{uint16(h), uint16(w)}
	}
	for k, v := range req.Labels {
		cs.Labels[k] = v
	}
	var warnings []string
	if platform != "" {
		p, err := spec.ParsePlatform(platform)
		if err != nil {
			return nil, nil, fmt.Errorf("platform: %v: %w", err, runtime.ErrInvalidArgument)
		}
		cs.Platform = &p
	}
	cs.Resources = runtime.Resources{
		MemoryBytes: hc.Memory, CPU: float64(hc.NanoCPUs) / 1e9, Cpuset: hc.CpusetCpus,
		MemoryReservationBytes: hc.MemoryReservation, MemorySwapBytes: hc.MemorySwap,
	}
	if hc.CPUShares > 0 {
		cs.Resources.CPUShares = uint64(hc.CPUShares)
	}
	if hc.PidsLimit != nil && *hc.PidsLimit != 0 {
		cs.Resources.PidsLimit = *hc.PidsLimit
	}
	cs.Security = runtime.Security{
		Privileged: hc.Privileged, CapAdd: hc.CapAdd, CapDrop: hc.CapDrop, ReadOnlyRootFS: hc.ReadonlyRootfs,
		PidHost: hc.PidMode == "host", IpcHost: hc.IpcMode == "host",
	}
	switch mode := string(hc.NetworkMode); mode {
	case "", "default", "bridge":
		cs.Network.Mode = runtime.NetworkBridge
	case "none", "host":
		cs.Network.Mode = mode
	default:
		cs.Network.Mode = mode
	}
	if req.NetworkingConfig != nil {
		for name, ep := range req.NetworkingConfig.EndpointsConfig {
			if ep != nil && (name == string(hc.NetworkMode) || len(req.NetworkingConfig.EndpointsConfig) == 1) {
				cs.Network.Aliases = append(cs.Network.Aliases, ep.Aliases...)
			}
		}
	}
	for port, bindings := range hc.PortBindings {
		if len(bindings) == 0 {
			bindings = append(bindings, network.PortBinding{})
		}
		for _, b := range bindings {
			pm := runtime.PortMapping{ContainerPort: port.Num(), Protocol: string(port.Proto()), HostIP: b.HostIP}
			if b.HostPort != "" {
				n, err := strconv.ParseUint(b.HostPort, 10, 16)
				if err != nil {
					return nil, nil, fmt.Errorf("port %s: host port %q: want a number from 1 to 65535 (ranges are not supported): %w", port, b.HostPort, runtime.ErrInvalidArgument)
				}
				pm.HostPort = uint16(n)
			}
			cs.Network.Ports = append(cs.Network.Ports, pm)
		}
	}
	if hc.PublishAllPorts {
		for port := range req.ExposedPorts {
			if _, bound := hc.PortBindings[port]; !bound {
				cs.Network.Ports = append(cs.Network.Ports, runtime.PortMapping{ContainerPort: port.Num(), Protocol: string(port.Proto())})
			}
		}
	}
	cs.Network.DNS = hc.DNS
	for _, h := range hc.ExtraHosts {
		name, addr, ok := strings.Cut(h, ":")
		ip, err := netip.ParseAddr(addr)
		if !ok || err != nil {
			return nil, nil, fmt.Errorf("extra host %q: want NAME:IP: %w", h, runtime.ErrInvalidArgument)
		}
		cs.Network.ExtraHosts = append(cs.Network.ExtraHosts, runtime.HostEntry{Name: name, Address: ip})
	}
	for i, b := range hc.Binds {
		v, err := parseBind(b, i)
		if err != nil {
			return nil, nil, err
		}
		cs.Volumes = append(cs.Volumes, v)
	}
	for i, m := range hc.Mounts {
		v := runtime.Volume{Name: fmt.Sprintf("mount-%d", i), Path: m.Target, Source: m.Source, ReadOnly: m.ReadOnly}
		switch m.Type {
		case mount.TypeBind:
		case mount.TypeVolume:
			v.Kind, v.Name, v.Source = runtime.VolumeNamed, m.Source, ""
			if m.Source == "" {
				v.Kind = "" // anonymous: the container's own
			}
		case mount.TypeTmpfs:
			v.Kind = runtime.VolumeTmpfs
			if m.TmpfsOptions != nil {
				v.SizeBytes, v.Mode = m.TmpfsOptions.SizeBytes, uint32(m.TmpfsOptions.Mode)
			}
		default:
			return nil, nil, fmt.Errorf("mount of type %q at %s is not supported: use bind, volume or tmpfs: %w", m.Type, m.Target, runtime.ErrNotSupported)
		}
		cs.Volumes = append(cs.Volumes, v)
	}
	for dst := range hc.Tmpfs {
		cs.Volumes = append(cs.Volumes, runtime.Volume{Name: "tmpfs-" + strings.Trim(strings.ReplaceAll(dst, "/", "-"), "-"), Path: dst, Kind: runtime.VolumeTmpfs})
	}
	if name := string(hc.RestartPolicy.Name); name != "" && name != "no" {
		if hc.AutoRemove {
			return nil, nil, fmt.Errorf("conflicting options: cannot specify both --restart and --rm: %w", runtime.ErrInvalidArgument)
		}
		// The agent restarts the container by this label, and finds it
		// again after its own restart.
		p, err := runtime.ParseRestartPolicy(name)
		if err != nil {
			return nil, nil, err
		}
		if p.Name == "on-failure" {
			p.MaxRetries = hc.RestartPolicy.MaximumRetryCount
		} else if hc.RestartPolicy.MaximumRetryCount != 0 {
			return nil, nil, fmt.Errorf("maximum retry count cannot be used with restart policy %q: %w", name, runtime.ErrInvalidArgument)
		}
		cs.Labels[runtime.LabelRestart] = p.String()
	}
	return cs, warnings, cs.Validate()
}

// parseBind reads one of docker's -v binds: SRC:DST[:OPTS], where SRC is an
// absolute host path or a volume's name.
func parseBind(b string, i int) (runtime.Volume, error) {
	parts := strings.Split(b, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return runtime.Volume{}, fmt.Errorf("bind %q: want SRC:DST[:ro]: %w", b, runtime.ErrInvalidArgument)
	}
	v := runtime.Volume{Name: fmt.Sprintf("bind-%d", i), Source: parts[0], Path: parts[1]}
	if !strings.HasPrefix(parts[0], "/") {
		v.Kind, v.Name, v.Source = runtime.VolumeNamed, parts[0], ""
	}
	if len(parts) == 3 {
		for _, opt := range strings.Split(parts[2], ",") {
			switch opt {
			case "ro":
				v.ReadOnly = true
			case "rw", "z", "Z", "rprivate", "private", "nocopy", "":
			default:
				return runtime.Volume{}, fmt.Errorf("bind %q: option %q: want ro or rw: %w", b, opt, runtime.ErrInvalidArgument)
			}
		}
	}
	return v, nil
}

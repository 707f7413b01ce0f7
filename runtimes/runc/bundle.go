package runc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/switchyard/switchyard/runtime"
)

// defaultPath is the PATH a container gets when its image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// cfsPeriod is the CFS period the CPU limit is expressed in (100 ms).
const cfsPeriod = 100000

// bundleInput is what a container's OCI spec is built from.
type bundleInput struct {
	id        runtime.ContainerID
	key       string // the OCI runtime's container id and cgroup name
	rootfs    string // the mounted root filesystem
	image     ocispec.ImageConfig
	spec      *runtime.CreateSpec
	volumeDir string // where volumes without a source live
	namedDir  string // where the node's named volumes live
	pidsLimit int64
	version   string            // the OCI runtime spec version to write
	net       netRecord         // the container's network
	etc       map[string]string // /etc files to bind, destination to source
}

// processArgs applies Docker's rules: a spec entrypoint replaces the image's
// and resets its cmd; spec args replace the cmd.
func processArgs(img ocispec.ImageConfig, cs *runtime.CreateSpec) []string {
	entry, args := img.Entrypoint, img.Cmd
	if len(cs.Entrypoint) > 0 {
		entry, args = cs.Entrypoint, nil
	}
	if len(cs.Args) > 0 {
		args = cs.Args
	}
	return append(slices.Clone(entry), args...)
}

// processEnv merges the image's environment with the request's (which
// wins), keeping the image's order and adding the request's new keys in
// its order.
func processEnv(img []string, extra []string, hostname string) []string {
	env := make([]string, 0, len(img)+len(extra)+2)
	seen := map[string]int{}
	add := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := seen[k]; ok {
			env[i] = kv
			return
		}
		seen[k] = len(env)
		env = append(env, kv)
	}
	for _, kv := range img {
		add(kv)
	}
	for _, kv := range extra {
		add(kv)
	}
	if _, ok := seen["PATH"]; !ok {
		add(defaultPath)
	}
	if _, ok := seen["HOSTNAME"]; !ok {
		add("HOSTNAME=" + hostname)
	}
	return env
}

// hostname is the container's hostname: its id, cut to the 63 characters a
// host name may have.
func hostname(id runtime.ContainerID) string {
	h := id.String()
	if len(h) > 63 {
		h = h[:63]
	}
	return h
}

// buildSpec builds the OCI runtime spec of a container whose root filesystem
// is mounted at in.rootfs. Errors wrap runtime.ErrInvalidArgument when the
// image and the service spec do not make a runnable process.
func buildSpec(in bundleInput) (*specs.Spec, []runtime.Mount, error) {
	args := processArgs(in.image, in.spec)
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("container %s: no command to run: the image has no entrypoint or cmd; set command.entrypoint or command.args: %w", in.id, runtime.ErrInvalidArgument)
	}
	cwd := in.spec.Workdir
	if cwd == "" {
		cwd = in.image.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return nil, nil, fmt.Errorf("container %s: working dir %q is not absolute; use a path starting with /: %w", in.id, cwd, runtime.ErrInvalidArgument)
	}
	if fi, err := os.Stat(filepath.Join(in.rootfs, filepath.Clean(cwd))); err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("container %s: working dir %q does not exist in the image; create it in the image or choose another: %w", in.id, cwd, runtime.ErrInvalidArgument)
	}
	host := in.net.hostname(in.id)
	env := processEnv(in.image.Env, in.spec.Env, host)
	if in.spec.TTY {
		if _, ok := runtime.Lookup(env, "TERM"); !ok {
			env = append(env, "TERM=xterm") // as docker sets for -t
		}
	}
	if err := checkEntrypoint(in.rootfs, args[0], env); err != nil {
		return nil, nil, fmt.Errorf("container %s: %w", in.id, err)
	}
	who := in.image.User
	if in.spec.User != "" {
		who = in.spec.User
	}
	user, err := resolveUser(in.rootfs, who)
	if err != nil {
		return nil, nil, fmt.Errorf("container %s: %w", in.id, err)
	}
	if in.spec.StrictGroups {
		user.AdditionalGids = nil
	}
	if len(in.spec.ExtraGroups) > 0 {
		extra, err := resolveGroups(in.rootfs, in.spec.ExtraGroups)
		if err != nil {
			return nil, nil, fmt.Errorf("container %s: %w", in.id, err)
		}
		for _, g := range extra {
			if g != user.GID && !slices.Contains(user.AdditionalGids, g) {
				user.AdditionalGids = append(user.AdditionalGids, g)
			}
		}
	}
	res, err := resources(in.spec.Resources, in.pidsLimit)
	if err != nil {
		return nil, nil, fmt.Errorf("container %s: %w", in.id, err)
	}
	version := in.version
	if version == "" {
		version = specs.Version
	}
	s := &specs.Spec{
		Version: version,
		Root:    &specs.Root{Path: in.rootfs},
		Process: &specs.Process{
			Args:            args,
			Env:             env,
			Cwd:             cwd,
			User:            user,
			Capabilities:    capabilities(user.UID),
			Rlimits:         rlimits(),
			NoNewPrivileges: true,
			Terminal:        in.spec.TTY,
		},
		Hostname: host,
		Mounts:   defaultMounts(),
		Linux: &specs.Linux{
			CgroupsPath: cgroupPath(in.key),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.NetworkNamespace},
			},
			MaskedPaths:   maskedPaths[:],
			ReadonlyPaths: readonlyPaths[:],
			Resources:     res,
		},
	}
	if sz := in.spec.TerminalSize; in.spec.TTY && sz[0] > 0 && sz[1] > 0 {
		s.Process.ConsoleSize = &specs.Box{Height: uint(sz[0]), Width: uint(sz[1])}
	}
	applyNetwork(s, in.net)
	for _, dst := range []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"} {
		if src, ok := in.etc[dst]; ok {
			opts := []string{"rbind", "rprivate"}
			if in.net.Mode == runtime.NetworkHost {
				opts = append(opts, "ro") // the host's own files
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts})
		}
	}
	mounts, err := volumeMounts(in)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range mounts {
		opts := []string{"rbind", "rprivate"}
		if m.Propagation != "" {
			opts[1] = m.Propagation
			// The container's mounts take what the host's propagate:
			// slave at least, shared for a shared bind.
			if m.Propagation == runtime.PropagationShared || s.Linux.RootfsPropagation == "" {
				s.Linux.RootfsPropagation = m.Propagation
			}
		}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		if m.RecursiveReadOnly {
			opts = append(opts, "rro") // runc's mount_setattr, on every mount below
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts})
	}
	for _, v := range in.spec.Volumes {
		if v.Kind != runtime.VolumeTmpfs {
			continue
		}
		opts := []string{"nosuid", "nodev"}
		if v.SizeBytes > 0 {
			opts = append(opts, "size="+strconv.FormatInt(v.SizeBytes, 10))
		}
		if v.Mode != 0 {
			opts = append(opts, "mode="+strconv.FormatUint(uint64(v.Mode), 8))
		}
		if v.ReadOnly {
			opts = append(opts, "ro")
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: path.Clean(v.Path), Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	if err := applySecurity(s, in.spec); err != nil {
		return nil, nil, fmt.Errorf("container %s: %w", in.id, err)
	}
	applyPod(s, in.spec.Pod)
	return s, mounts, nil
}

// applyPod makes the container join its pod's pinned namespaces (the
// network's is the network record's) and mount the pod's /dev/shm: the
// containers of a pod share their IPC, their hostname and, when the pod
// asks, their processes. A namespace the host's already (host IPC, host
// PID) is left so.
func applyPod(s *specs.Spec, p *runtime.Pod) {
	if p == nil {
		return
	}
	for i, n := range s.Linux.Namespaces {
		switch {
		case n.Type == specs.IPCNamespace && p.IPCNS != "":
			s.Linux.Namespaces[i].Path = p.IPCNS
		case n.Type == specs.UTSNamespace && p.UTSNS != "":
			s.Linux.Namespaces[i].Path = p.UTSNS
			s.Hostname = "" // the namespace's own; runc sets none in a joined one
		case n.Type == specs.PIDNamespace && p.PIDNS != "":
			s.Linux.Namespaces[i].Path = p.PIDNS
		}
	}
	if p.Shm != "" && slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.IPCNamespace && n.Path == p.IPCNS }) {
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/dev/shm" {
				s.Mounts[i] = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: p.Shm, Options: []string{"rbind", "rprivate", "nosuid", "nodev", "noexec"}}
			}
		}
	}
}

// resources turns the spec's limits into cgroup settings: CPU as a CFS
// quota, shares and a CPU set; a memory limit (with swap equal to it unless
// asked otherwise, so that a limit is a limit even where swap exists), a
// soft limit, swappiness and the OOM killer switch; the pids limit (the
// request's, else the runtime's default); and the block I/O weight. A limit
// this host's cgroups cannot hold is an error that names it.
func resources(r runtime.Resources, pids int64) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{Devices: deviceRules()}
	if r.CPU > 0 || r.CPUShares > 0 || r.Cpuset != "" {
		res.CPU = &specs.LinuxCPU{Cpus: r.Cpuset}
		if r.CPU > 0 {
			quota := int64(r.CPU * cfsPeriod)
			period := uint64(cfsPeriod)
			res.CPU.Quota, res.CPU.Period = &quota, &period
		}
		if r.CPUShares > 0 {
			shares := r.CPUShares
			res.CPU.Shares = &shares
		}
	}
	mem := &specs.LinuxMemory{}
	if r.MemoryBytes > 0 {
		limit := r.MemoryBytes
		mem.Limit = &limit
		if swapAccounting() && r.MemorySwapBytes == 0 {
			swap := limit
			mem.Swap = &swap
		}
	}
	if r.MemorySwapBytes != 0 {
		if !swapAccounting() {
			return nil, fmt.Errorf("resources.memory_swap: this host's kernel does not account swap (no memory.memsw / memory.swap.max); drop the swap limit: %w", runtime.ErrNotSupported)
		}
		if r.MemorySwapBytes > 0 && r.MemorySwapBytes < r.MemoryBytes {
			return nil, fmt.Errorf("resources.memory_swap %d: memory plus swap cannot be less than the memory limit %d: %w", r.MemorySwapBytes, r.MemoryBytes, runtime.ErrInvalidArgument)
		}
		if r.MemorySwapBytes > 0 && r.MemoryBytes == 0 {
			return nil, fmt.Errorf("resources.memory_swap needs a memory limit (resources.memory) as well: %w", runtime.ErrInvalidArgument)
		}
		swap := r.MemorySwapBytes
		mem.Swap = &swap
	}
	if r.MemoryReservationBytes > 0 {
		v := r.MemoryReservationBytes
		mem.Reservation = &v
	}
	if r.MemorySwappiness != nil {
		v := uint64(*r.MemorySwappiness)
		mem.Swappiness = &v
	}
	if r.OOMKillDisable {
		v := true
		mem.DisableOOMKiller = &v
	}
	if *mem != (specs.LinuxMemory{}) {
		res.Memory = mem
	}
	if r.PidsLimit != 0 {
		pids = r.PidsLimit
	}
	if pids != 0 {
		res.Pids = &specs.LinuxPids{Limit: &pids}
	}
	if r.BlkioWeight > 0 {
		if !blkioWeight() {
			return nil, fmt.Errorf("resources.blkio_weight: this host's I/O scheduler has no weights (no blkio.weight / io.weight); drop the weight: %w", runtime.ErrNotSupported)
		}
		w := r.BlkioWeight
		res.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return res, nil
}

// blkioWeight reports whether block I/O weights can be set.
func blkioWeight() bool {
	for _, p := range []string{"/sys/fs/cgroup/blkio/blkio.weight", "/sys/fs/cgroup/blkio/blkio.bfq.weight", "/sys/fs/cgroup/io.weight", "/sys/fs/cgroup/io.bfq.weight"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// swapAccounting reports whether memory+swap limits can be set (cgroup v1
// with memsw, or v2's memory.swap.max).
func swapAccounting() bool {
	for _, p := range []string{"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/memory.swap.max"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// volumeMounts resolves the request's volumes to bind mounts; a volume without
// a source gets a directory under the container's state.
func volumeMounts(in bundleInput) ([]runtime.Mount, error) {
	var out []runtime.Mount
	// Names and paths were checked once, by CreateSpec.Validate.
	for _, v := range in.spec.Volumes {
		src := v.Source
		switch {
		case v.Kind == runtime.VolumeTmpfs:
			continue // a mount of its own, not a bind
		case v.Kind == runtime.VolumeNamed:
			if in.namedDir == "" {
				return nil, fmt.Errorf("container %s: volume %q: this runtime keeps no named volumes: %w", in.id, v.Name, runtime.ErrNotSupported)
			}
			src = filepath.Join(in.namedDir, v.Name)
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("container %s: volume %q: %w", in.id, v.Name, err)
			}
		case src == "":
			src = filepath.Join(in.volumeDir, v.Name)
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("container %s: volume %q: %w", in.id, v.Name, err)
			}
		default:
			if _, err := os.Stat(src); err != nil {
				return nil, fmt.Errorf("container %s: volume %q: source %s does not exist; create it first: %w", in.id, v.Name, src, runtime.ErrInvalidArgument)
			}
		}
		m := runtime.Mount{Source: src, Destination: path.Clean(v.Path), ReadOnly: v.ReadOnly, RecursiveReadOnly: v.RecursiveReadOnly}
		if v.Propagation == runtime.PropagationSlave || v.Propagation == runtime.PropagationShared {
			shared, slave := mountPropagation(src)
			if !shared && !(slave && v.Propagation == runtime.PropagationSlave) {
				return nil, fmt.Errorf("container %s: volume %q: propagation %s needs %s on a shared mount of the host (a slave one will do for rslave), and it is not (mount --make-rshared the mount it is on): %w",
					in.id, v.Name, v.Propagation, src, runtime.ErrFailedPrecondition)
			}
			m.Propagation = v.Propagation
		}
		out = append(out, m)
	}
	return out, nil
}

// checkEntrypoint fails early, with a message that says what to do, when
// the program to run is not in the image. runc would fail too, later and
// less clearly.
func checkEntrypoint(rootfs, prog string, env []string) error {
	exists := func(p string) bool {
		fi, err := os.Stat(filepath.Join(rootfs, filepath.Clean(p)))
		if err != nil {
			// A symlink whose target is absolute inside the image: resolve
			// it against the root filesystem.
			if l, lerr := os.Readlink(filepath.Join(rootfs, filepath.Clean(p))); lerr == nil && path.IsAbs(l) {
				fi, err = os.Stat(filepath.Join(rootfs, filepath.Clean(l)))
			}
		}
		return err == nil && !fi.IsDir()
	}
	if strings.Contains(prog, "/") {
		if !path.IsAbs(prog) || exists(prog) {
			return nil // relative paths resolve against the working dir: let runc judge
		}
		return fmt.Errorf("entrypoint %s does not exist in the image; check command.entrypoint: %w", prog, runtime.ErrInvalidArgument)
	}
	search := strings.TrimPrefix(defaultPath, "PATH=")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, dir := range filepath.SplitList(search) {
		if path.IsAbs(dir) && exists(path.Join(dir, prog)) {
			return nil
		}
	}
	return fmt.Errorf("entrypoint %q is not in the image's PATH (%s); check command.entrypoint or the image: %w", prog, search, runtime.ErrInvalidArgument)
}

// isNotExist reports a missing file through any wrapping.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// applyNetwork sets the spec's network namespace: the pinned namespace of
// a container on a network, none (the host's, and its hostname) for the
// host's network, and otherwise a new one with loopback alone, which runc
// makes.
func applyNetwork(s *specs.Spec, rec netRecord) {
	ns := s.Linux.Namespaces[:0]
	for _, n := range s.Linux.Namespaces {
		switch {
		case n.Type == specs.NetworkNamespace && rec.Mode == runtime.NetworkHost,
			n.Type == specs.UTSNamespace && rec.Mode == runtime.NetworkHost:
			continue
		case n.Type == specs.NetworkNamespace && rec.NetNS != "":
			n.Path = rec.NetNS
		}
		ns = append(ns, n)
	}
	s.Linux.Namespaces = ns
	if rec.Mode == runtime.NetworkHost {
		s.Hostname = ""
	}
}

// mountPropagation reports whether path is on a mount with shared
// propagation (a "shared:N" optional field in /proc/self/mountinfo) and
// whether on a slave one ("master:N"): the mount that holds it, the
// longest mount point above it.
func mountPropagation(path string) (shared, slave bool) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, false
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false, false
	}
	best := -1
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		mp := f[4]
		if mp != "/" && real != mp && !strings.HasPrefix(real, mp+"/") {
			continue
		}
		if len(mp) < best {
			continue
		}
		best, shared, slave = len(mp), false, false
		for _, opt := range f[6:] {
			if opt == "-" {
				break
			}
			shared = shared || strings.HasPrefix(opt, "shared:")
			slave = slave || strings.HasPrefix(opt, "master:")
		}
	}
	return shared, slave
}

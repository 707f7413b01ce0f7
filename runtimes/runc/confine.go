package runc

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	seccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
)

// capSet is the capability set a container's process gets: docker's
// default, or all of them when privileged, with the request's additions
// and removals ("ALL" adds or removes every one).
func capSet(sec runtime.Security) []string {
	caps := defaultCaps()
	if sec.Privileged {
		caps = runtime.AllCapabilities()
	}
	for _, c := range sec.CapAdd {
		n, _ := runtime.NormalizeCapability(c)
		if n == "ALL" {
			caps = runtime.AllCapabilities()
		} else if !slices.Contains(caps, n) {
			caps = append(caps, n)
		}
	}
	for _, c := range sec.CapDrop {
		n, _ := runtime.NormalizeCapability(c)
		if n == "ALL" {
			caps = nil
			continue
		}
		caps = slices.DeleteFunc(caps, func(x string) bool { return x == n })
	}
	return caps
}

// applySecurity applies the request's confinement to s, whose process,
// mounts and namespaces hold docker's defaults.
func applySecurity(s *specs.Spec, cs *runtime.CreateSpec) error {
	sec := cs.Security
	caps := capSet(sec)
	// A process cannot give what it has not got: a privileged container
	// gets every capability the agent holds; one asked for by name that
	// the agent lacks is an error that says so.
	own := ownBounding()
	if sec.Privileged || slices.Contains(sec.CapAdd, "ALL") || slices.Contains(sec.CapAdd, "all") {
		caps = slices.DeleteFunc(caps, func(c string) bool { return !own[c] })
	}
	for _, c := range sec.CapAdd {
		if n, _ := runtime.NormalizeCapability(c); n != "ALL" && !own[n] {
			return fmt.Errorf("capability %s: the agent itself does not hold it, so it cannot give it to a container: %w", n, runtime.ErrNotSupported)
		}
	}
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps}
	if s.Process.User.UID == 0 {
		s.Process.Capabilities.Effective, s.Process.Capabilities.Permitted = caps, caps
	}
	s.Process.NoNewPrivileges = !sec.AllowNewPrivileges
	s.Root.Readonly = sec.ReadOnlyRootFS
	if sec.MaskedPaths != nil {
		s.Linux.MaskedPaths = sec.MaskedPaths
	}
	if sec.ReadonlyPaths != nil {
		s.Linux.ReadonlyPaths = sec.ReadonlyPaths
	}
	if sec.Privileged {
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		for i := range s.Mounts {
			if m := &s.Mounts[i]; m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
				m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
		devs, err := hostDevices()
		if err != nil {
			return err
		}
		s.Linux.Devices = devs
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	for _, d := range sec.Devices {
		dev, err := deviceOf(d.Path)
		if err != nil {
			return err
		}
		access := d.Access
		if access == "" {
			access = "rwm"
		}
		if !slices.ContainsFunc(s.Linux.Devices, func(x specs.LinuxDevice) bool { return x.Path == dev.Path }) {
			s.Linux.Devices = append(s.Linux.Devices, dev)
		}
		major, minor := dev.Major, dev.Minor
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: dev.Type, Major: &major, Minor: &minor, Access: access})
	}
	if len(sec.Sysctls) > 0 {
		s.Linux.Sysctl = sec.Sysctls
	}
	for _, u := range sec.Ulimits {
		rl, err := rlimitOf(u)
		if err != nil {
			return err
		}
		s.Process.Rlimits = slices.DeleteFunc(s.Process.Rlimits, func(x specs.POSIXRlimit) bool { return x.Type == rl.Type })
		s.Process.Rlimits = append(s.Process.Rlimits, rl)
	}
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == specs.PIDNamespace && sec.PidHost || n.Type == specs.IPCNamespace && sec.IpcHost
	})
	if sec.IpcHost {
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/dev/shm" {
				s.Mounts[i] = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rprivate"}}
			}
		}
	}
	if oom := cs.Resources.OOMScoreAdj; oom != nil {
		if err := checkOOMScoreAdj(*oom); err != nil {
			return err
		}
		s.Process.OOMScoreAdj = oom
	}
	switch {
	case sec.Privileged || sec.Seccomp == "unconfined":
		s.Linux.Seccomp = nil
	case sec.Seccomp != "":
		body, err := os.ReadFile(sec.Seccomp)
		if err != nil {
			return fmt.Errorf("seccomp profile %s: %w: %w", sec.Seccomp, err, runtime.ErrInvalidArgument)
		}
		p, err := seccomp.LoadProfile(string(body), s)
		if err != nil {
			return fmt.Errorf("seccomp profile %s: %w: %w", sec.Seccomp, err, runtime.ErrInvalidArgument)
		}
		s.Linux.Seccomp = p
	default:
		return applySeccomp(s)
	}
	return nil
}

// deviceOf describes the host device at path for the container.
func deviceOf(path string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return specs.LinuxDevice{}, fmt.Errorf("device %s: %w; give a device that exists on this host: %w", path, err, runtime.ErrInvalidArgument)
	}
	typ := ""
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, fmt.Errorf("device %s: not a character or block device: %w", path, runtime.ErrInvalidArgument)
	}
	mode := fs.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: path, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, nil
}

// hostDevices lists the host's devices for a privileged container, as
// docker does: every device node under /dev but those a container has of
// its own (its terminals, shared memory, message queues).
func hostDevices() ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	err := filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a node that vanished while walking
		}
		if d.IsDir() {
			switch p {
			case "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/.lxc", "/dev/.udev":
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 || p == "/dev/console" || p == "/dev/ptmx" {
			return nil
		}
		if dev, err := deviceOf(p); err == nil {
			out = append(out, dev)
		}
		return nil
	})
	return out, err
}

// rlimitResources maps a limit's name to its resource, for the host check.
var rlimitResources = map[string]int{
	"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA,
	"fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE,
	"nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

// rlimitOf turns a limit into runc's form, refusing one above the host's
// hard limit: raising a hard limit needs CAP_SYS_RESOURCE, which the agent
// may lack, and runc would fail at start with a bare EPERM.
func rlimitOf(u runtime.Ulimit) (specs.POSIXRlimit, error) {
	res, ok := rlimitResources[u.Name]
	if !ok {
		return specs.POSIXRlimit{}, fmt.Errorf("ulimit %q: not a resource limit: %w", u.Name, runtime.ErrInvalidArgument)
	}
	var host unix.Rlimit
	if err := unix.Getrlimit(res, &host); err == nil && host.Max != unix.RLIM_INFINITY && uint64(u.Hard) > host.Max && !hasCapability(unix.CAP_SYS_RESOURCE) {
		return specs.POSIXRlimit{}, fmt.Errorf("ulimit %s: hard limit %d is above this host's %d, and the agent may not raise it (it lacks CAP_SYS_RESOURCE); ask for at most %d: %w",
			u.Name, u.Hard, host.Max, host.Max, runtime.ErrInvalidArgument)
	}
	return specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Soft: uint64(u.Soft), Hard: uint64(u.Hard)}, nil
}

// checkOOMScoreAdj refuses an OOM score adjustment below the agent's own
// when the agent may not lower it (it lacks CAP_SYS_RESOURCE).
func checkOOMScoreAdj(v int) error {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return nil
	}
	own, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err == nil && v < own && !hasCapability(unix.CAP_SYS_RESOURCE) {
		return fmt.Errorf("oom_score_adj %d: below the agent's own (%d), and the agent may not lower it (it lacks CAP_SYS_RESOURCE); ask for %d or more: %w", v, own, own, runtime.ErrInvalidArgument)
	}
	return nil
}

// hasCapability reports whether this process has capability c in its
// effective set.
func hasCapability(c int) bool {
	mask, ok := ownCapSet("CapEff")
	return ok && mask&(1<<uint(c)) != 0
}

// ownCapSet is one of this process's capability sets (CapEff, CapBnd, ...)
// as /proc/self/status gives it.
func ownCapSet(set string) (uint64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, set+":"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return mask, err == nil
		}
	}
	return 0, false
}

// ownBounding is this process's capability bounding set, by name: what it
// can give a container.
func ownBounding() map[string]bool {
	out := map[string]bool{}
	mask, ok := ownCapSet("CapBnd")
	if !ok {
		return out
	}
	for i, c := range runtime.AllCapabilities() {
		if mask&(1<<uint(i)) != 0 {
			out[c] = true
		}
	}
	return out
}

// writeSecretBundle writes the OCI config of a container that gets
// secrets, with their values, into the container's directory under the
// secret dir (0700), links the bundle's config.json to it, and writes each
// file secret there for a read-only bind. It returns the environment to
// record: each secret's variable as $S:NAME, never its value.
func (r *Runtime) writeSecretBundle(key, dir string, s *specs.Spec, secrets []runtime.Secret) ([]string, error) {
	if r.opt.secretDir == "" {
		return nil, fmt.Errorf("secrets: this runtime keeps none (it has no secret dir): %w", runtime.ErrNotSupported)
	}
	priv := filepath.Join(r.opt.secretDir, key)
	if err := os.MkdirAll(filepath.Join(priv, "files"), 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if err := os.Chmod(priv, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	recorded := slices.Clone(s.Process.Env)
	for i, sec := range secrets {
		if sec.Env != "" {
			s.Process.Env = setEnv(s.Process.Env, sec.Env+"="+string(sec.Value))
			recorded = setEnv(recorded, sec.Env+"=$S:"+sec.Name)
		}
		if sec.File != "" {
			src := filepath.Join(priv, "files", strconv.Itoa(i))
			// Readable by the container's user whoever it is; the
			// directories above are closed to everyone but root.
			if err := os.WriteFile(src, sec.Value, 0o444); err != nil {
				return nil, fmt.Errorf("secret %s: %w", sec.Name, err)
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: sec.File, Type: "bind", Source: src, Options: []string{"rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"}})
		}
	}
	config := filepath.Join(priv, "config.json")
	if err := writeJSON(config, s); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if err := os.Chmod(config, 0o600); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if err := os.Symlink(config, filepath.Join(dir, "bundle", "config.json")); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return recorded, nil
}

// setEnv sets KEY=VALUE in env, in place of an entry for KEY.
func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			out := slices.Clone(env)
			out[i] = kv
			return out
		}
	}
	return append(slices.Clone(env), kv)
}

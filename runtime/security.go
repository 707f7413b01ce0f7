package runtime

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// capabilityNames are Linux's capabilities in the order of their bits
// (CAP_CHOWN is bit 0), for checking CapAdd and CapDrop before any runtime
// sees them and for reading capability masks.
var capabilityNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// AllCapabilities returns every Linux capability, CAP_ prefixed, in the
// order of their bits.
func AllCapabilities() []string {
	out := make([]string, len(capabilityNames))
	for i, c := range capabilityNames {
		out[i] = "CAP_" + c
	}
	return out
}

// NormalizeCapability writes a capability as the kernel names it:
// "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" are all CAP_NET_ADMIN; "all"
// is ALL. It reports false for a name that is not a capability.
func NormalizeCapability(name string) (string, bool) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CAP_")
	if n == "ALL" {
		return "ALL", true
	}
	if !slices.Contains(capabilityNames, n) {
		return "", false
	}
	return "CAP_" + n, true
}

// UlimitNames are the resource limits a container may set, without
// RLIMIT_.
var UlimitNames = []string{"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

// sysctlNamespaced says which sysctls a container may set: those of the
// namespaces it has of its own (as runc and docker allow).
func sysctlNamespaced(key string) bool {
	switch {
	case strings.HasPrefix(key, "net."), strings.HasPrefix(key, "fs.mqueue."),
		strings.HasPrefix(key, "kernel.shm"), strings.HasPrefix(key, "kernel.msg"),
		key == "kernel.sem", key == "kernel.domainname", key == "kernel.hostname":
		return true
	}
	return false
}

// validateSecurity checks s.Security and the process fields beside it.
func (s *CreateSpec) validateSecurity() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("create spec: "+format+": %w", append(args, ErrInvalidArgument)...)
	}
	sec := s.Security
	for field, caps := range map[string][]string{"cap_add": sec.CapAdd, "cap_drop": sec.CapDrop} {
		for _, c := range caps {
			if _, ok := NormalizeCapability(c); !ok {
				return bad("security.%s: %q is not a Linux capability (like NET_ADMIN or SYS_PTRACE; see capabilities(7))", field, c)
			}
		}
	}
	switch sec.Seccomp {
	case "", "unconfined":
	default:
		if !path.IsAbs(sec.Seccomp) {
			return bad("security.seccomp %q: want unconfined or the absolute path of a JSON profile on the host", sec.Seccomp)
		}
	}
	for i, d := range sec.Devices {
		if !path.IsAbs(d.Path) || !strings.HasPrefix(path.Clean(d.Path), "/dev/") {
			return bad("security.devices[%d]: path %q: want a device under /dev, like /dev/fuse", i, d.Path)
		}
		if strings.Trim(d.Access, "rwm") != "" {
			return bad("security.devices[%d] %s: access %q: want some of r, w and m", i, d.Path, d.Access)
		}
	}
	for k := range sec.Sysctls {
		if !sysctlNamespaced(k) {
			return bad("security.sysctls: %q is not a namespaced setting, so it would change the whole host; a container may set net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*", k)
		}
		if strings.HasPrefix(k, "net.") && s.Network.Mode == NetworkHost {
			return bad("security.sysctls: %q would change the host's network settings (the container uses the host's network); drop it or give the container its own network", k)
		}
		if strings.HasPrefix(k, "kernel.") && k != "kernel.domainname" && k != "kernel.hostname" && sec.IpcHost {
			return bad("security.sysctls: %q would change the host's IPC settings (the container shares the host's IPC namespace)", k)
		}
	}
	seen := map[string]bool{}
	for i, u := range sec.Ulimits {
		if !slices.Contains(UlimitNames, u.Name) {
			return bad("security.ulimits[%d]: %q is not a resource limit (want one of %s)", i, u.Name, strings.Join(UlimitNames, ", "))
		}
		if seen[u.Name] {
			return bad("security.ulimits: %s is given twice", u.Name)
		}
		seen[u.Name] = true
		if u.Soft < 0 || u.Hard < 0 || u.Soft > u.Hard {
			return bad("security.ulimits %s: soft %d, hard %d: want 0 <= soft <= hard", u.Name, u.Soft, u.Hard)
		}
	}
	if s.Hostname != "" && !validHostname(s.Hostname) {
		return bad("hostname %q: want letters, digits, '-' and '.', at most 63 characters a label", s.Hostname)
	}
	if s.Hostname != "" && s.Network.Mode == NetworkHost {
		return bad("hostname %q: a container on the host's network has the host's hostname; drop hostname or give it its own network", s.Hostname)
	}
	for i, h := range s.Network.ExtraHosts {
		if !validHostname(h.Name) || !h.Address.IsValid() {
			return bad("network.extra_hosts[%d]: want NAME:ADDRESS with a host name and an IP address", i)
		}
	}
	return nil
}

// validHostname reports whether h is a host name: dot-separated labels of
// letters, digits and '-', not starting or ending with '-'.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

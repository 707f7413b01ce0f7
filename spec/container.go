package spec

import (
	"cmp"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/secrets"
)

// This file turns a service's container-level ZLayer fields into the
// contract's create request, and checks them first, so that a value no
// runtime could apply is an error at its line rather than at create.

// securityOpts is what security_opt may say, read as docker reads it
// (key=value or key:value).
type securityOpts struct {
	seccomp         string // "", "unconfined" or a profile path
	allowNewPrivs   bool
	problem, remedy string
}

// parseSecurityOpts reads security_opt; problem is set for a value this
// node cannot honour.
func parseSecurityOpts(opts []string) securityOpts {
	var out securityOpts
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			k, v, _ = strings.Cut(o, ":")
		}
		switch k {
		case "seccomp":
			if v == "" {
				out.problem, out.remedy = fmt.Sprintf("%q has no profile", o), "write seccomp=unconfined or seccomp=/path/to/profile.json"
				return out
			}
			if v != "unconfined" && !path.IsAbs(v) {
				out.problem, out.remedy = fmt.Sprintf("seccomp profile %q is not an absolute path", v), "write the profile's path on the node, like seccomp=/etc/switchyard/profile.json"
				return out
			}
			out.seccomp = v
		case "no-new-privileges":
			switch v {
			case "", "true":
				out.allowNewPrivs = false
			case "false":
				out.allowNewPrivs = true
			default:
				out.problem, out.remedy = fmt.Sprintf("%q is not true or false", o), "write no-new-privileges or no-new-privileges:false"
				return out
			}
		case "apparmor":
			if v != "unconfined" {
				out.problem, out.remedy = fmt.Sprintf("%q names an AppArmor profile, and this node applies none", o), "drop it, or write apparmor=unconfined (what every container here is)"
				return out
			}
		case "label":
			if v != "disable" {
				out.problem, out.remedy = fmt.Sprintf("%q sets an SELinux label, and this node applies none", o), "drop it, or write label=disable (what every container here is)"
				return out
			}
		default:
			out.problem, out.remedy = fmt.Sprintf("%q is not a security option", o), "want seccomp=unconfined, seccomp=PROFILE, no-new-privileges[:true|false], apparmor=unconfined or label=disable"
			return out
		}
	}
	return out
}

// parseExtraHost reads "name:address" (docker's form; an IPv6 address
// after the first colon) or "name=address" (compose's newer form).
func parseExtraHost(s string) (runtime.HostEntry, bool) {
	name, addr, ok := strings.Cut(s, "=")
	if !ok {
		name, addr, ok = strings.Cut(s, ":")
	}
	if !ok {
		return runtime.HostEntry{}, false
	}
	a, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil || name == "" {
		return runtime.HostEntry{}, false
	}
	return runtime.HostEntry{Name: name, Address: a}, true
}

// validateContainer checks the container-level fields of s.
func (p *problems) validateContainer(sp string, s *ServiceSpec) {
	o := &s.ServiceOptions
	for i, st := range o.Storage {
		ip := index(field(sp, "storage"), i)
		switch {
		case st.Type == "s3":
			p.addf(field(ip, "type"), "s3 storage is not mounted by this node (it would need an S3 client in the node); copy the objects into a named volume, or run the service on a node that mounts S3")
		case !path.IsAbs(st.Target) || path.Clean(st.Target) == "/":
			p.addf(field(ip, "target"), "%q is not an absolute path below /; write where it appears in the workload, like /data", st.Target)
		case st.Type == "bind" && !path.IsAbs(st.Source):
			p.addf(field(ip, "source"), "%q is not an absolute path; write the host path from the root", st.Source)
		case st.Type == "named" && runtime.CheckName(st.Name, "volume name") != "":
			p.addf(field(ip, "name"), "%s", runtime.CheckName(st.Name, "volume name"))
		case st.Type == "tmpfs" && st.Mode != nil && *st.Mode > 7777:
			p.addf(field(ip, "mode"), "%d is not permission bits (write them as octal digits, like 1777 or 755)", *st.Mode)
		}
	}
	if st := parseSecurityOpts(o.SecurityOpt); st.problem != "" {
		p.addf(field(sp, "security_opt"), "%s; %s", st.problem, st.remedy)
	}
	for i, c := range append(slices.Clone(o.Capabilities), o.CapDrop...) {
		if _, ok := runtime.NormalizeCapability(c); !ok {
			name, at := "capabilities", i
			if i >= len(o.Capabilities) {
				name, at = "cap_drop", i-len(o.Capabilities)
			}
			p.addf(index(field(sp, name), at), "%q is not a Linux capability (like NET_ADMIN or SYS_PTRACE; see capabilities(7))", c)
		}
	}
	for i, d := range o.Devices {
		if !strings.HasPrefix(path.Clean(d.Path), "/dev/") {
			p.addf(field(index(field(sp, "devices"), i), "path"), "%q is not a device path; want a device under /dev, like /dev/fuse", d.Path)
		}
	}
	for _, mode := range []struct{ name, v string }{{"pid_mode", o.PidMode}, {"ipc_mode", o.IpcMode}} {
		switch mode.v {
		case "", "host", "private", "shareable":
		default:
			p.addf(field(sp, mode.name), "%q is not offered (want host, or leave it out for the container's own); sharing another container's namespace is not offered yet", mode.v)
		}
	}
	for i, d := range o.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			p.addf(index(field(sp, "dns"), i), "%q is not an IP address; write a nameserver's address, like 1.1.1.1", d)
		}
	}
	for i, h := range o.ExtraHosts {
		if _, ok := parseExtraHost(h); !ok {
			p.addf(index(field(sp, "extra_hosts"), i), "%q is not NAME:ADDRESS; write it like db.local:10.0.0.5", h)
		}
	}
	for i, pm := range o.PortMappings {
		if _, err := netip.ParseAddr(pm.HostIP); err != nil {
			p.addf(field(index(field(sp, "port_mappings"), i), "host_ip"), "%q is not an IP address; write the host address to publish on, like 127.0.0.1 (0.0.0.0 for all)", pm.HostIP)
		}
	}
	hostNet := o.HostNetwork || o.NetworkMode != nil && o.NetworkMode.Mode == "host"
	if hostNet && o.Hostname != "" {
		p.addf(field(sp, "hostname"), "a service on the host's network has the host's hostname; drop hostname or the host network")
	}
	for _, k := range sortedKeys(o.Sysctls) {
		if hostNet && strings.HasPrefix(k, "net.") {
			p.addf(field(field(sp, "sysctls"), k), "would change the host's own network settings (the service is on the host's network); drop it or the host network")
		}
	}
	if m := o.NetworkMode; m != nil && m.Mode == "container" {
		p.addf(field(sp, "network_mode"), "sharing container %s's network is not offered yet; use bridge, bridge:NAME, host or none", m.ID)
	}
	if s.Resources.MemorySwapBytes > 0 && s.Resources.MemoryBytes == 0 {
		p.addf(field(sp, "resources.memory_swap"), "needs resources.memory too: memory_swap is memory plus swap")
	} else if s.Resources.MemorySwapBytes > 0 && s.Resources.MemorySwapBytes < s.Resources.MemoryBytes {
		p.addf(field(sp, "resources.memory_swap"), "is less than resources.memory; memory_swap is memory plus swap, so at least the memory limit (or -1 for unlimited swap)")
	}
	for _, name := range sortedKeys(o.Ulimits) {
		if !slices.Contains(runtime.UlimitNames, name) {
			p.addf(field(field(sp, "ulimits"), name), "%q is not a resource limit (want one of %s)", name, strings.Join(runtime.UlimitNames, ", "))
		}
	}
	if w := o.Wasm; w != nil {
		// ZLayer's rules for the wasm block.
		if !strings.HasPrefix(o.ServiceType, "wasm_") {
			p.addf(field(sp, "wasm"), "the wasm block is for a wasm service_type (wasm_http, wasm_plugin, ...), and this service's is %q; set service_type or drop the block", cmp.Or(o.ServiceType, "standard"))
		}
		if w.MinInstances > w.MaxInstances {
			p.addf(field(sp, "wasm.min_instances"), "min_instances (%d) cannot be greater than max_instances (%d)", w.MinInstances, w.MaxInstances)
		}
		if w.MaxMemory != "" {
			if _, msg := parseMemory(w.MaxMemory); msg != "" {
				p.addf(field(sp, "wasm.max_memory"), "%s", msg)
			}
		}
	}
	if o.ServiceType == "wasm_http" && len(s.Endpoints) > 0 && !slices.ContainsFunc(s.Endpoints, func(e Endpoint) bool { return e.Protocol == "http" || e.Protocol == "https" }) {
		p.addf(field(sp, "endpoints"), "a wasm_http service needs an http or https endpoint")
	}
	for i, name := range o.Secrets {
		if msg := secrets.CheckName(name); msg != "" {
			p.addf(index(field(sp, "secrets"), i), "%s", msg)
		}
	}
	if o.StopSignal != "" && !validSignal(o.StopSignal) {
		p.addf(field(sp, "stop_signal"), "%q is not a signal (like SIGTERM, SIGQUIT or 3)", o.StopSignal)
	}
}

// signalNames are the signals a stop signal may name.
var signalNames = []string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"}

func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n > 0 && n <= 64
	}
	return slices.Contains(signalNames, strings.TrimPrefix(strings.ToUpper(s), "SIG"))
}

// applyContainer fills the container-level fields of cs from s.
func (s *ServiceSpec) applyContainer(cs *runtime.CreateSpec) {
	o := &s.ServiceOptions
	for i, st := range o.Storage {
		v := runtime.Volume{Path: st.Target, ReadOnly: st.ReadOnly}
		switch st.Type {
		case "bind":
			v.Name, v.Source = fmt.Sprintf("storage-%d", i), st.Source
		case "named":
			v.Name, v.Kind = st.Name, runtime.VolumeNamed
		case "anonymous":
			v.Name = fmt.Sprintf("storage-%d", i)
		case "tmpfs":
			v.Name, v.Kind, v.SizeBytes = fmt.Sprintf("storage-%d", i), runtime.VolumeTmpfs, st.SizeBytes
			if st.Mode != nil {
				// Written as octal digits, as chmod takes them.
				m, _ := strconv.ParseUint(strconv.FormatUint(uint64(*st.Mode), 10), 8, 32)
				v.Mode = uint32(m)
			}
		default:
			continue // s3: refused by validation
		}
		cs.Volumes = append(cs.Volumes, v)
	}
	if o.Wasm != nil {
		for i, pre := range o.Wasm.Preopens {
			cs.Volumes = append(cs.Volumes, runtime.Volume{Name: fmt.Sprintf("preopen-%d", i), Path: pre.Target, Source: pre.Source, ReadOnly: pre.Readonly})
		}
		if o.Wasm.MaxMemory != "" && cs.Resources.MemoryBytes == 0 {
			cs.Resources.MemoryBytes, _ = parseMemory(o.Wasm.MaxMemory)
		}
	}
	sec := parseSecurityOpts(o.SecurityOpt)
	cs.Security = runtime.Security{
		Privileged: o.Privileged, CapAdd: slices.Clone(o.Capabilities), CapDrop: slices.Clone(o.CapDrop),
		ReadOnlyRootFS: o.ReadOnlyRootFS, AllowNewPrivileges: sec.allowNewPrivs, Seccomp: sec.seccomp,
		PidHost: o.PidMode == "host", IpcHost: o.IpcMode == "host",
	}
	for _, d := range o.Devices {
		var access string
		if d.Read {
			access += "r"
		}
		if d.Write {
			access += "w"
		}
		if d.Mknod {
			access += "m"
		}
		cs.Security.Devices = append(cs.Security.Devices, runtime.Device{Path: d.Path, Access: access})
	}
	if len(o.Sysctls) > 0 {
		cs.Security.Sysctls = o.Sysctls
	}
	for _, name := range sortedKeys(o.Ulimits) {
		u := o.Ulimits[name]
		cs.Security.Ulimits = append(cs.Security.Ulimits, runtime.Ulimit{Name: name, Soft: u.Soft, Hard: u.Hard})
	}
	cs.User, cs.ExtraGroups, cs.Hostname, cs.StopSignal, cs.TTY = o.User, slices.Clone(o.ExtraGroups), o.Hostname, o.StopSignal, o.TTY
	if len(o.Labels) > 0 {
		cs.Labels = make(map[string]string, len(o.Labels))
		for k, v := range o.Labels {
			cs.Labels[k] = v
		}
	}
	for _, d := range o.DNS {
		if a, err := netip.ParseAddr(d); err == nil {
			cs.Network.DNS = append(cs.Network.DNS, a)
		}
	}
	for _, h := range o.ExtraHosts {
		if e, ok := parseExtraHost(h); ok {
			cs.Network.ExtraHosts = append(cs.Network.ExtraHosts, e)
		}
	}
	switch {
	case o.NetworkMode != nil && o.NetworkMode.Mode == "bridge" && o.NetworkMode.Name != "":
		cs.Network.Mode = o.NetworkMode.Name
	case o.NetworkMode != nil && (o.NetworkMode.Mode == "host" || o.NetworkMode.Mode == "none"):
		cs.Network.Mode = o.NetworkMode.Mode
	case o.HostNetwork:
		cs.Network.Mode = runtime.NetworkHost
	}
	for _, pm := range o.PortMappings {
		m := runtime.PortMapping{HostPort: pm.HostPort, ContainerPort: pm.ContainerPort, Protocol: pm.Protocol}
		if a, err := netip.ParseAddr(pm.HostIP); err == nil && !a.IsUnspecified() {
			m.HostIP = a
		}
		cs.Network.Ports = append(cs.Network.Ports, m)
	}
}

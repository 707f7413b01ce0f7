package spec

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// A field that parses but that this node does not act on is never dropped
// in silence: Parse lists it in Deployment.Warnings, with its line and why,
// and `spec validate --strict` makes each one an error. The reasons live in
// one table, so that acting on a field later is one deletion here.

// notActedOn maps a field path, relative to a service (an index written
// [*]), to why this node does not act on it.
var notActedOn = map[string]string{
	"image.source_policy":      "image sources are the registry and this node's store, in that order of need; an S3 source is not offered",
	"network":                  "overlay networks span nodes, which this node does not join; the service is on the node's bridge network (set network_mode to choose another)",
	"replica_groups":           "replica groups are not run by this node; it runs the service's own image and command, scale's replica count times",
	"isolation":                "isolation modes are for Windows containers, which this node does not run; a Windows node could",
	"node_mode":                "placement is for a cluster's scheduler; this node runs every service it is given",
	"node_selector":            "node selection is for a cluster's scheduler; this node runs every service it is given",
	"affinity":                 "affinity is for a cluster's scheduler; this node runs every service it is given",
	"logs":                     "log destinations are not configured per service; logs go to the node's log files (`switchyard logs`)",
	"init_container":           "an init process as PID 1 is not offered yet",
	"stdin_open":               "deployed services get no stdin; use `switchyard run -i` for an interactive container",
	"userns_mode":              "user namespaces are not offered yet",
	"cgroup_parent":            "the cgroup parent is the node's own (/switchyard)",
	"overlay":                  "overlay networks span nodes, which this node does not join",
	"localhost_reachability":   "a public endpoint is published on the node's addresses, loopback included, whatever this says",
	"endpoints[*].path":        "path routing is done by ZLayer's proxy, which this node does not run; the port is published as it is",
	"endpoints[*].host":        "host routing is done by ZLayer's proxy, which this node does not run; the port is published as it is",
	"endpoints[*].stream":      "stream proxy settings are ZLayer's proxy's, which this node does not run",
	"endpoints[*].tunnel":      "tunnels are not run by this node",
	"endpoints[*].target_role": "replica groups are not run by this node",
	"resources.gpu":            "this node has no GPU runtime; route the service to a node that has one (a delegate agent with GPUs)",
	"volumes":                  "volumes is switchyard's older form and not a ZLayer field; write storage: [{type: bind, source, target}] or {type: named, name, target} instead",
	"registry_auth":            "credentials in a spec are switchyard's older form and not a ZLayer field; store them with `switchyard login REGISTRY` (or docker login) instead",
	"wasm.min_instances":       "wasm instance pools are not kept: a wasm service runs one instance per replica",
	"wasm.max_instances":       "wasm instance pools are not kept: a wasm service runs one instance per replica",
	"wasm.idle_timeout":        "wasm instance pools are not kept: a wasm service runs one instance per replica",
	"wasm.request_timeout":     "wasm HTTP handlers are not run by this node; a wasm service is a WASI command that serves on its own sockets",
	"wasm.max_fuel":            "fuel metering is not offered by this node's wasm runtime",
	"wasm.epoch_interval":      "epoch interruption is not offered by this node's wasm runtime",
	"wasm.capabilities":        "component-model capabilities are not offered: a wasm service is a WASI preview 1 command",
	"wasm.allow_http_outgoing": "outgoing HTTP is not offered to WASI preview 1 modules",
	"wasm.allowed_hosts":       "outgoing HTTP is not offered to WASI preview 1 modules",
	"wasm.allow_tcp":           "outgoing sockets are not offered to WASI preview 1 modules; published endpoints are given as listeners",
	"wasm.allow_udp":           "UDP sockets are not offered to WASI preview 1 modules",
	"wasm.kv_enabled":          "the key-value store is not offered to wasm modules",
	"wasm.kv_namespace":        "the key-value store is not offered to wasm modules",
	"wasm.kv_max_value_size":   "the key-value store is not offered to wasm modules",
	"wasm.secrets":             "secrets reach a wasm module through env ($S:NAME), not this list",
	"wasm.precompile":          "wasm modules are always compiled ahead of time and cached",
	"expose":                   "expose is metadata; publish a port with an endpoint (expose: public) or port_mappings",
}

// notActedOnTop is the same for the deployment's own fields.
var notActedOnTop = map[string]string{
	"externals": "external services are routed by ZLayer's proxy, which this node does not run",
	"tunnels":   "tunnels are not run by this node",
	"api":       "this node serves its own API (`switchyard daemon`), not a per-deployment one",
}

// indexRe matches the list indexes of a path.
var indexRe = regexp.MustCompile(`\[\d+\]`)

// warnings lists the fields of d written in the spec that this node does not
// act on, in the order they appear.
func (p *problems) warnings(d *Deployment) []*FieldError {
	var out []located
	add := func(path string, msg string) {
		at := p.posOf(path)
		out = append(out, located{&FieldError{Path: path, Line: at.line, Msg: msg}, at.col})
	}
	for path := range p.pos {
		if why, ok := notActedOnTop[path]; ok {
			add(path, "not acted on: "+why)
			continue
		}
		rest, ok := strings.CutPrefix(path, "services.")
		if !ok {
			continue
		}
		name, rel, ok := strings.Cut(rest, ".")
		if !ok || d.Services[name] == nil {
			continue
		}
		if why, ok := notActedOn[indexRe.ReplaceAllString(rel, "[*]")]; ok {
			add(path, "not acted on: "+why)
		}
	}
	for _, name := range d.ServiceNames {
		s := d.Services[name]
		sp := field("services", name)
		switch s.Scale.Mode {
		case "adaptive":
			if s.Scale.Targets.RPS != nil {
				add(field(sp, "scale.targets.rps"), "not acted on: this node does not count requests; scale by cpu or memory")
			}
			if s.Scale.Targets.CPU == nil && s.Scale.Targets.Memory == nil {
				add(field(sp, "scale.mode"), fmt.Sprintf("adaptive scaling without a cpu or memory target has nothing to scale by: the service runs min (%d) replicas", s.Scale.Replicas))
			}
		}
		for _, k := range sortedKeys(s.Env) {
			v := s.Env[k]
			if !strings.HasPrefix(v, EnvPrefix) && !strings.HasPrefix(v, SecretPrefix) && (strings.Contains(v, EnvPrefix) || strings.Contains(v, SecretPrefix)) {
				add(field(field(sp, "env"), k), "taken literally: only a value that starts with $E: or $S: is resolved (as in ZLayer); give the whole value its own variable or secret")
			}
		}
		if len(s.Secrets) > 0 {
			add(field(sp, "secrets"), "secrets is switchyard's own field, not ZLayer's; ZLayer would refuse this file (use env: {NAME: $S:secret} for a file both accept)")
		}
		if e := s.Errors; e != nil {
		}
		for i, dep := range s.Depends {
			if target := d.Services[dep.Service]; target != nil && target.Health == nil && (dep.Condition == "healthy" || dep.Condition == "ready") {
				add(field(index(field(sp, "depends"), i), "service"), fmt.Sprintf("%s has no health check, so being %s means being started (give %s a health block to wait for more)", dep.Service, dep.Condition, dep.Service))
			}
		}
		if s.RestartPolicy != nil && s.RType != RTypeService {
			add(field(sp, "restart_policy"), fmt.Sprintf("not acted on: a %s's replica is not restarted by this node yet; run it again by hand", s.RType))
		}
		switch s.ServiceType {
		case "", "standard", "job":
		default:
			add(field(sp, "service_type"), fmt.Sprintf("not acted on: %s is a ZLayer HTTP handler kind this node does not run; a wasm module runs as a WASI command", s.ServiceType))
		}
		if replicasOr1(s) > 1 {
			for i, e := range s.Endpoints {
				if e.Expose == "public" && e.Protocol == "udp" {
					add(field(index(field(sp, "endpoints"), i), "expose"), fmt.Sprintf("udp host port %d is published by the first of the %d replicas only (this node balances tcp endpoints, not udp); the others are reachable as %s on the deployment's network", e.Port, replicasOr1(s), name))
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Line < b.Line || a.Line == b.Line && a.col < b.col
	})
	warns := make([]*FieldError, len(out))
	for i, w := range out {
		warns[i] = w.FieldError
	}
	return warns
}

func replicasOr1(s *ServiceSpec) uint32 {
	if s.Scale.Replicas == 0 && s.Scale.Mode != "adaptive" {
		return 1
	}
	return s.Scale.Replicas
}

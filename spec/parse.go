package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest spec Parse accepts, in bytes; a deployment spec is
// a few kilobytes, so anything near this is a mistake (or an attack).
const MaxSize = 4 << 20

// The fields each mapping may hold, in the order the docs list them.
var (
	deploymentFields = []string{"version", "deployment", "services", "externals", "tunnels", "api"}
	serviceFields    = []string{"rtype", "image", "platform", "command", "env", "endpoints", "resources", "scale", "volumes", "registry_auth"}
	imageFields      = []string{"name", "pull_policy", "source_policy"}
	platformFields   = []string{"os", "arch", "variant", "osVersion"}
	commandFields    = []string{"entrypoint", "args", "workdir"}
	endpointFields   = []string{"name", "protocol", "port", "target_port", "path", "host", "expose", "stream", "target_role", "tunnel"}
	resourcesFields  = []string{"cpu", "memory", "gpu", "pids_limit", "cpuset", "cpu_shares", "memory_swap", "memory_reservation", "memory_swappiness", "oom_score_adj", "oom_kill_disable", "blkio_weight"}
	scaleFields      = []string{"mode", "replicas", "min", "max", "cooldown", "targets"}
	volumeFields     = []string{"name", "path", "source", "read_only"}
	authFields       = []string{"username", "password", "token"}
)

// osVersionRe is what platform.osVersion may be: dotted numbers.
var osVersionRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+){1,3}$`)

// yamlErrRe takes the line out of the YAML decoder's syntax errors.
var yamlErrRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseFile reads and parses the deployment spec in the file at path. A
// missing file is an error that wraps fs.ErrNotExist (not ErrInvalid: the
// spec was never read); a bad spec is as for Parse.
func ParseFile(path string) (*Deployment, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("spec file %s: %w; check the path", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("spec file %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("spec file %s: %w", path, err)
	}
	return Parse(data)
}

// Parse parses and validates a ZLayer-compatible deployment spec:
//
//	version: v1
//	deployment: demo
//	services:
//	  web:
//	    image: {name: busybox:1.36}
//	    scale: {mode: fixed, replicas: 2}
//
// Defaults are applied (rtype service, pull policy if_not_present, one
// replica, endpoints internal) and platforms normalised. Parse reports every
// problem it finds, each a *FieldError naming the field path and the line,
// joined with errors.Join; the result wraps ErrInvalid.
func Parse(data []byte) (*Deployment, error) {
	p := &problems{}
	if len(data) > MaxSize {
		p.fail("", position{}, "the spec is larger than %d bytes; a deployment spec is a few kilobytes", MaxSize)
		return nil, p.err()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.fail("", position{}, "the spec is empty; it needs version: v1, deployment: NAME and services:")
		} else {
			p.syntax(err)
		}
		return nil, p.err()
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntax(err)
		return nil, p.err()
	default:
		// Reported with the first document's problems, so that one run
		// shows them all.
		p.report("", at(&extra), "a second YAML document starts here; a spec file holds one deployment (remove the '---' and what follows, or move it to a file of its own)")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	p.setPos("", root)
	d := p.deployment(root)
	if d != nil {
		p.validateDeployment(d)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	d.Warnings = p.warnings(d)
	return d, nil
}

// syntax records a YAML syntax error with its line.
func (p *problems) syntax(err error) {
	if m := yamlErrRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		// The decoder reports a parser error at the 0-based line of the
		// construct it was inside ("did not find expected ..."); make it
		// the 1-based line of that construct.
		if strings.HasPrefix(m[2], "did not find expected") {
			line++
		}
		p.fail("", position{line: line}, "YAML syntax: %s", m[2])
		return
	}
	p.fail("", position{}, "YAML syntax: %s", err.Error())
}

// deployment reads the top-level mapping.
func (p *problems) deployment(n *yaml.Node) *Deployment {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		p.fail("", at(n), "the spec is empty; it needs version: v1, deployment: NAME and services:")
		return nil
	}
	entries, ok := p.mapping("", n, deploymentFields)
	if !ok {
		return nil
	}
	d := &Deployment{}
	for _, e := range entries {
		switch e.key {
		case "version":
			d.Version, _ = p.str(e.path, e.val)
		case "deployment":
			d.Name, _ = p.str(e.path, e.val)
		case "services":
			p.services(d, e.path, e.val)
		case "externals":
			p.decode(e.path, e.val, &d.Externals)
		case "tunnels":
			p.decode(e.path, e.val, &d.Tunnels)
		case "api":
			p.decode(e.path, e.val, &d.API)
		}
	}
	return d
}

// services reads the services mapping, keeping the written order.
func (p *problems) services(d *Deployment, path string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // reported as "no services" by validation
	}
	entries, ok := p.mapping(path, n, nil)
	if !ok {
		return
	}
	d.Services = make(map[string]*ServiceSpec, len(entries))
	for _, e := range entries {
		s := p.service(e.path, e.val)
		s.Name = e.key
		d.Services[e.key] = s
		d.ServiceNames = append(d.ServiceNames, e.key)
	}
}

// service reads one service and applies its defaults. It always returns a
// spec (possibly partial) so that validation can still look at the fields
// that were read.
func (p *problems) service(path string, n *yaml.Node) *ServiceSpec {
	s := &ServiceSpec{}
	zlayerFields := fieldsOf(reflect.TypeFor[ServiceOptions]())
	entries, _ := p.mapping(path, n, knownNames(zlayerFields, serviceFields...))
	// The ZLayer fields are read by their types (decode.go) from a copy of
	// the mapping that holds only them.
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	for _, e := range entries {
		if !slices.Contains(serviceFields, e.key) {
			rest.Content = append(rest.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.key, Line: p.posOf(e.path).line, Column: p.posOf(e.path).col}, e.val)
		}
	}
	p.decodeStruct(path, rest, reflectValue(&s.ServiceOptions), "")
	for _, e := range entries {
		switch e.key {
		case "rtype":
			if v, ok := p.str(e.path, e.val); ok {
				s.RType = RType(v)
			}
		case "image":
			p.image(&s.Image, e.path, e.val)
		case "platform":
			s.Platform = p.platform(e.path, e.val)
		case "command":
			p.command(&s.Command, e.path, e.val)
		case "env":
			s.Env = p.env(e.path, e.val)
		case "endpoints":
			s.Endpoints = p.endpoints(e.path, e.val)
		case "resources":
			p.resources(s, e.path, e.val)
		case "scale":
			p.scale(&s.Scale, e.path, e.val)
		case "volumes":
			s.Volumes = p.volumes(e.path, e.val)
		case "registry_auth":
			s.RegistryAuth = p.auth(e.path, e.val)
		}
	}
	s.ApplyDefaults()
	return s
}

// image reads `image: {name, pull_policy}` or the short form `image: NAME`.
func (p *problems) image(img *ImageSpec, path string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		img.Name, _ = p.str(field(path, "name"), n)
		return
	}
	entries, _ := p.mapping(path, n, imageFields)
	for _, e := range entries {
		switch e.key {
		case "name":
			img.Name, _ = p.str(e.path, e.val)
		case "pull_policy":
			if v, ok := p.str(e.path, e.val); ok {
				img.PullPolicy = PullPolicy(v)
				if v == "newer" {
					// ZLayer's newer asks the registry each time and fetches
					// what changed: what always does here.
					img.PullPolicy = PullAlways
				}
			}
		case "source_policy":
			var sp struct {
				V string `enum:"local_first|s3_first|remote_only|local_only"`
			}
			f, _ := reflect.TypeOf(sp).FieldByName("V")
			p.decodeValue(e.path, e.val, reflectValue(&sp.V), f)
			img.SourcePolicy = sp.V
		}
	}
}

// platform reads "os/arch[/variant]" or {os, arch, variant}.
func (p *problems) platform(path string, n *yaml.Node) *ocispec.Platform {
	var s string
	if n.Kind == yaml.ScalarNode {
		v, ok := p.str(path, n)
		if !ok {
			return nil
		}
		s = v
	} else {
		entries, ok := p.mapping(path, n, platformFields)
		if !ok {
			return nil
		}
		var parts [3]string
		var osVersion string
		for _, e := range entries {
			v, ok := p.str(e.path, e.val)
			if !ok {
				return nil
			}
			switch e.key {
			case "osVersion":
				osVersion = v
			case "os":
				parts[0] = v
			case "arch":
				parts[1] = v
			case "variant":
				parts[2] = v
			}
		}
		if parts[0] == "" {
			p.fail(field(path, "os"), position{}, "missing; a platform needs an os (linux, windows, darwin, freebsd, wasip1)")
			return nil
		}
		if parts[1] == "" && parts[2] != "" {
			p.fail(field(path, "arch"), position{}, "missing; a variant needs an arch (like arm with variant v7)")
			return nil
		}
		s = parts[0]
		for _, part := range parts[1:] {
			if part != "" {
				s += "/" + part
			}
		}
		plat, msg := parsePlatform(s)
		if msg != "" {
			p.fail(path, position{}, "%q is not a platform: %s", s, msg)
			return nil
		}
		if osVersion != "" && !osVersionRe.MatchString(osVersion) {
			p.fail(field(path, "osVersion"), position{}, "%q is not an OS version; write the build family's dotted numbers, like 10.0.17763 (or 10.0.17763.1234)", osVersion)
			return nil
		}
		plat.OSVersion = osVersion
		return &plat
	}
	plat, msg := parsePlatform(s)
	if msg != "" {
		p.fail(path, position{}, "%q is not a platform: %s", s, msg)
		return nil
	}
	return &plat
}

// command reads {entrypoint, args, workdir}.
func (p *problems) command(c *Command, path string, n *yaml.Node) {
	entries, _ := p.mapping(path, n, commandFields)
	for _, e := range entries {
		switch e.key {
		case "entrypoint":
			c.Entrypoint, _ = p.strs(e.path, e.val)
		case "args":
			c.Args, _ = p.strs(e.path, e.val)
		case "workdir":
			c.Workdir, _ = p.str(e.path, e.val)
		}
	}
}

// env reads a map of NAME: value; numbers and booleans count as their text.
func (p *problems) env(path string, n *yaml.Node) map[string]string {
	entries, ok := p.mapping(path, n, nil)
	if !ok {
		return nil
	}
	env := make(map[string]string, len(entries))
	for _, e := range entries {
		if e.val.Kind == yaml.ScalarNode && e.val.ShortTag() == "!!null" {
			p.fail(e.path, at(e.val), "has no value; write %s: \"\" for an empty value", strconv.Quote(e.key))
			continue
		}
		if v, ok := p.text(e.path, e.val); ok {
			env[e.key] = v
		}
	}
	return env
}

// endpoints reads the list of endpoints.
func (p *problems) endpoints(path string, n *yaml.Node) []Endpoint {
	items, ok := p.sequence(path, n)
	if !ok {
		return nil
	}
	out := make([]Endpoint, 0, len(items))
	for i, item := range items {
		ip := index(path, i)
		var ep Endpoint
		entries, _ := p.mapping(ip, item, endpointFields)
		for _, e := range entries {
			switch e.key {
			case "name":
				ep.Name, _ = p.str(e.path, e.val)
			case "protocol":
				ep.Protocol, _ = p.str(e.path, e.val)
			case "port":
				if v, ok := p.integer(e.path, e.val, 1, 65535, "port"); ok {
					ep.Port = uint16(v)
				}
			case "target_port":
				if v, ok := p.integer(e.path, e.val, 1, 65535, "port"); ok {
					ep.TargetPort = uint16(v)
				}
			case "expose":
				ep.Expose, _ = p.str(e.path, e.val)
			case "path":
				ep.Path, _ = p.str(e.path, e.val)
			case "host":
				ep.Host, _ = p.str(e.path, e.val)
			case "target_role":
				ep.TargetRole, _ = p.str(e.path, e.val)
			case "stream":
				p.decode(e.path, e.val, &ep.Stream)
			case "tunnel":
				p.decode(e.path, e.val, &ep.Tunnel)
			}
		}
		out = append(out, ep)
	}
	return out
}

// resources reads ZLayer's resources: cpu and memory, the docker-style
// extras, and a GPU request.
func (p *problems) resources(s *ServiceSpec, path string, n *yaml.Node) {
	r := &s.Resources
	entries, _ := p.mapping(path, n, resourcesFields)
	for _, e := range entries {
		switch e.key {
		case "cpu":
			r.CPU, _ = quantity(p, e.path, e.val, parseCPU)
		case "memory":
			r.MemoryBytes, _ = quantity(p, e.path, e.val, parseMemory)
		case "gpu":
			p.decode(e.path, e.val, &s.GPU)
		case "pids_limit":
			r.PidsLimit, _ = p.integer(e.path, e.val, -1, math.MaxInt32, "a process count (-1 for no limit)")
		case "cpuset":
			if v, ok := p.str(e.path, e.val); ok {
				if msg := checkCpuset(v); msg != "" {
					p.fail(e.path, at(e.val), "%s", msg)
				} else {
					r.Cpuset = v
				}
			}
		case "cpu_shares":
			if v, ok := p.integer(e.path, e.val, 2, 262144, "a CPU weight"); ok {
				r.CPUShares = uint64(v)
			}
		case "memory_swap":
			if e.val.Kind == yaml.ScalarNode && e.val.Value == "-1" {
				r.MemorySwapBytes = -1
			} else {
				r.MemorySwapBytes, _ = quantity(p, e.path, e.val, parseMemory)
			}
		case "memory_reservation":
			r.MemoryReservationBytes, _ = quantity(p, e.path, e.val, parseMemory)
		case "memory_swappiness":
			if v, ok := p.integer(e.path, e.val, 0, 100, "a swappiness"); ok {
				x := uint8(v)
				r.MemorySwappiness = &x
			}
		case "oom_score_adj":
			if v, ok := p.integer(e.path, e.val, -1000, 1000, "an OOM score adjustment"); ok {
				x := int(v)
				r.OOMScoreAdj = &x
			}
		case "oom_kill_disable":
			r.OOMKillDisable, _ = p.boolean(e.path, e.val)
		case "blkio_weight":
			if v, ok := p.integer(e.path, e.val, 10, 1000, "a block I/O weight"); ok {
				r.BlkioWeight = uint16(v)
			}
		}
	}
}

// checkCpuset says what is wrong with a cpuset ("0-3,5"), or "".
func checkCpuset(s string) string {
	bad := fmt.Sprintf("%q is not a CPU list (want CPU numbers and ranges, like 0-3,5)", s)
	if s == "" {
		return bad
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || b < a {
			return bad
		}
	}
	return ""
}

// quantity reads a number or string scalar through parse.
func quantity[T any](p *problems, path string, n *yaml.Node, parse func(string) (T, string)) (T, bool) {
	var zero T
	if n.Kind != yaml.ScalarNode {
		p.fail(path, at(n), "want a quantity, got %s", describe(n))
		return zero, false
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float":
	default:
		p.fail(path, at(n), "want a quantity, got %s", describe(n))
		return zero, false
	}
	v, msg := parse(n.Value)
	if msg != "" {
		p.fail(path, at(n), "%s", msg)
		return zero, false
	}
	return v, true
}

// scale reads ZLayer's tagged scale: {mode: fixed, replicas: N},
// {mode: adaptive, min, max, cooldown, targets} or {mode: manual}. A
// switchyard spec may leave mode out for fixed.
func (p *problems) scale(s *Scale, path string, n *yaml.Node) {
	entries, _ := p.mapping(path, n, scaleFields)
	s.Mode = "fixed"
	for _, e := range entries {
		if e.key == "mode" {
			if v, ok := p.str(e.path, e.val); ok {
				switch v {
				case "fixed", "adaptive", "manual":
					s.Mode = v
				default:
					p.fail(e.path, at(e.val), "unknown scale mode %q (want fixed with replicas: N, adaptive with min and max, or manual)", v)
					return
				}
			}
		}
	}
	allowed := map[string][]string{"fixed": {"mode", "replicas"}, "adaptive": {"mode", "min", "max", "cooldown", "targets"}, "manual": {"mode"}}[s.Mode]
	var minSet, maxSet bool
	for _, e := range entries {
		if !slices.Contains(allowed, e.key) {
			p.fail(e.path, at(e.val), "%s is not a field of scale mode %s (its fields: %s)", e.key, s.Mode, strings.Join(allowed, ", "))
			continue
		}
		switch e.key {
		case "replicas":
			if v, ok := p.integer(e.path, e.val, 1, MaxReplicas, "replicas"); ok {
				s.Replicas = uint32(v)
			}
		case "min":
			if v, ok := p.integer(e.path, e.val, 0, MaxReplicas, "a replica count"); ok {
				s.Replicas, s.Min, minSet = uint32(v), uint32(v), true
			}
		case "max":
			if v, ok := p.integer(e.path, e.val, 0, MaxReplicas, "a replica count"); ok {
				s.Max, maxSet = uint32(v), true
			}
		case "cooldown":
			p.decode(e.path, e.val, &s.Cooldown)
		case "targets":
			p.decodeStruct(e.path, e.val, reflectValue(&s.Targets), "")
		}
	}
	if s.Mode == "adaptive" {
		switch {
		case !minSet:
			p.fail(field(path, "min"), position{}, "missing; adaptive scaling needs min and max")
		case !maxSet:
			p.fail(field(path, "max"), position{}, "missing; adaptive scaling needs min and max")
		case s.Replicas > s.Max:
			p.fail(field(path, "min"), position{}, "scale min (%d) cannot be greater than max (%d)", s.Replicas, s.Max)
		}
	}
}

// volumes reads the list of volumes.
func (p *problems) volumes(path string, n *yaml.Node) []Volume {
	items, ok := p.sequence(path, n)
	if !ok {
		return nil
	}
	out := make([]Volume, 0, len(items))
	for i, item := range items {
		var v Volume
		entries, _ := p.mapping(index(path, i), item, volumeFields)
		for _, e := range entries {
			switch e.key {
			case "name":
				v.Name, _ = p.str(e.path, e.val)
			case "path":
				v.Path, _ = p.str(e.path, e.val)
			case "source":
				v.Source, _ = p.str(e.path, e.val)
			case "read_only":
				v.ReadOnly, _ = p.boolean(e.path, e.val)
			}
		}
		out = append(out, v)
	}
	return out
}

// auth reads {username, password} or {token}.
func (p *problems) auth(path string, n *yaml.Node) *RegistryAuth {
	entries, ok := p.mapping(path, n, authFields)
	if !ok {
		return nil
	}
	a := &RegistryAuth{}
	for _, e := range entries {
		switch e.key {
		case "username":
			a.Username, _ = p.str(e.path, e.val)
		case "password":
			a.Password, _ = p.text(e.path, e.val)
		case "token":
			a.Token, _ = p.str(e.path, e.val)
		}
	}
	return a
}

package spec

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/robfig/cron/v3"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/secrets"
)

// MaxReplicas is the most replicas a service may ask for on one node; more
// is a typo, not a plan.
const MaxReplicas = 1000

// ApplyDefaults fills the fields a spec may leave out: rtype service, pull
// policy if_not_present, one replica, endpoints exposed internally. Parse
// applies them; a caller that builds a spec in code may too. Validate treats
// the zero value of each of these fields as its default, so calling
// ApplyDefaults is not required for validation.
func (s *ServiceSpec) ApplyDefaults() {
	if s.RType == "" {
		s.RType = RTypeService
	}
	if s.Image.PullPolicy == "" {
		s.Image.PullPolicy = PullIfNotPresent
	}
	if s.Scale.Mode == "" {
		s.Scale.Mode = "fixed"
	}
	if s.Scale.Replicas == 0 && s.Scale.Mode == "fixed" {
		s.Scale.Replicas = 1
	}
	for i := range s.Endpoints {
		if s.Endpoints[i].Expose == "" {
			s.Endpoints[i].Expose = "internal"
		}
	}
}

// Validate checks a service spec built in code with the same rules and
// messages as Parse, without line numbers; paths start at
// "services.NAME". It reports every problem, each a *FieldError, joined
// with errors.Join; the result wraps ErrInvalid.
func (s *ServiceSpec) Validate() error {
	p := &problems{}
	p.validateService("services."+s.Name, s)
	return p.err()
}

// Validate checks a deployment built in code (or re-checks a parsed one)
// with the same rules and messages as Parse, without line numbers.
func (d *Deployment) Validate() error {
	p := &problems{}
	p.validateDeployment(d)
	return p.err()
}

// validateDeployment applies the deployment-level rules and every service's.
func (p *problems) validateDeployment(d *Deployment) {
	switch d.Version {
	case "v1":
	case "":
		p.addf("version", "missing; start the spec with version: v1")
	default:
		p.addf("version", "unsupported version %q (want v1)", d.Version)
	}
	if d.Name == "" {
		p.addf("deployment", "missing; name the deployment, like deployment: demo")
	} else if msg := checkDeploymentName(d.Name); msg != "" {
		p.addf("deployment", "%s", msg)
	}
	if len(d.Services) == 0 {
		p.addf("services", "no services; add at least one under services:")
		return
	}
	if !sameNames(d.ServiceNames, d.Services) {
		p.addf("services", "ServiceNames does not list exactly the keys of Services; list each service once, in order")
		return
	}
	for _, n := range d.ServiceNames {
		s := d.Services[n]
		sp := field("services", n)
		switch {
		case s == nil:
			p.addf(sp, "has no spec; give it at least an image")
		case s.Name != n:
			p.addf(sp, "the spec's Name %q differs from its key %q; make them equal", s.Name, n)
		default:
			p.validateService(sp, s)
			for i, dep := range s.Depends {
				if _, ok := d.Services[dep.Service]; !ok {
					p.addf(field(index(field(sp, "depends"), i), "service"), "%q is not a service of this deployment (its services: %s)", dep.Service, strings.Join(d.ServiceNames, ", "))
				}
			}
		}
	}
	if c := dependencyCycle(d); c != nil {
		p.addf(field(field("services", c[0]), "depends"), "the services depend on each other in a cycle, %s, so none of them could start; remove one of the dependencies", formatCycle(c))
	}
}

func sameNames(names []string, services map[string]*ServiceSpec) bool {
	if len(names) != len(services) {
		return false
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if _, ok := services[n]; !ok || seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

// validateService applies every per-service rule; sp is the service's path.
func (p *problems) validateService(sp string, s *ServiceSpec) {
	if msg := checkName(s.Name, "service name"); msg != "" {
		p.addf(sp, "%s", msg)
	}
	switch s.RType {
	case "", RTypeService, RTypeJob, RTypeCron:
	default:
		p.addf(field(sp, "rtype"), "unknown rtype %q (want service, job or cron)", s.RType)
	}
	switch {
	case s.RType == RTypeCron && s.Schedule == "":
		p.addf(field(sp, "schedule"), "missing; a cron service needs a schedule, like schedule: \"0 0 3 * * *\" (seconds first)")
	case s.Schedule != "" && s.RType != RTypeCron:
		p.addf(field(sp, "schedule"), "a schedule is for rtype: cron; set rtype: cron or remove the schedule")
	case s.Schedule != "":
		if msg := checkSchedule(s.Schedule); msg != "" {
			p.addf(field(sp, "schedule"), "%s", msg)
		}
	}
	p.validateImage(field(sp, "image"), s.Image)
	if s.Platform != nil {
		if msg := checkPlatform(Normalize(*s.Platform)); msg != "" {
			p.addf(field(sp, "platform"), "%q is not a platform: %s", formatPlatform(*s.Platform), msg)
		}
	}
	p.validateCommand(field(sp, "command"), s.Command)
	p.validateEnv(field(sp, "env"), s.Env)
	p.validateEndpoints(field(sp, "endpoints"), s.Endpoints)
	if msg := checkCPU(s.Resources.CPU); msg != "" {
		p.addf(field(sp, "resources.cpu"), "%s", msg)
	}
	if s.Resources.MemoryBytes < 0 {
		p.addf(field(sp, "resources.memory"), "%d is not a quantity %s", s.Resources.MemoryBytes, memoryHint)
	}
	if s.Scale.Replicas > MaxReplicas {
		p.addf(field(sp, "scale.replicas"), "replicas %d is out of range (want 1 to %d)", s.Scale.Replicas, MaxReplicas)
	}
	p.validateVolumes(field(sp, "volumes"), s.Volumes)
	p.validateContainer(sp, s)
	if s.RegistryAuth != nil {
		p.validateAuth(field(sp, "registry_auth"), s.RegistryAuth)
	}
}

func (p *problems) validateImage(ip string, img ImageSpec) {
	np := field(ip, "name")
	if img.Name == "" {
		p.addf(np, "missing or empty; name the image to run, like busybox:1.36 or 127.0.0.1:5000/demo/app:latest")
	} else if _, err := name.ParseReference(img.Name); err != nil {
		p.addf(np, "%q is not an image reference (%s); write it like busybox:1.36 or 127.0.0.1:5000/demo/app:latest", img.Name, err.Error())
	}
	switch img.PullPolicy {
	case "", PullAlways, PullIfNotPresent, PullNever:
	default:
		p.addf(field(ip, "pull_policy"), "unknown pull policy %q (want always, if_not_present or never)", img.PullPolicy)
	}
}

func (p *problems) validateCommand(cp string, c Command) {
	for i, a := range c.Entrypoint {
		if strings.IndexByte(a, 0) >= 0 {
			p.addf(index(field(cp, "entrypoint"), i), "contains a NUL byte, which no process argument can hold")
		}
	}
	for i, a := range c.Args {
		if strings.IndexByte(a, 0) >= 0 {
			p.addf(index(field(cp, "args"), i), "contains a NUL byte, which no process argument can hold")
		}
	}
	if c.Workdir != "" && !path.IsAbs(c.Workdir) {
		p.addf(field(cp, "workdir"), "%q is not an absolute path; write it from the root, like /app", c.Workdir)
	}
}

func (p *problems) validateEnv(ep string, env map[string]string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kp := field(ep, k)
		switch {
		case k == "":
			p.addf(kp, "an environment variable needs a name")
		case strings.ContainsAny(k, "=\x00"):
			p.addf(kp, "environment variable name %q contains '=' or a NUL byte; use letters, digits and '_'", k)
		case strings.IndexByte(env[k], 0) >= 0:
			p.addf(kp, "the value contains a NUL byte, which no environment can hold")
		default:
			if ref, ok := strings.CutPrefix(env[k], SecretPrefix); ok {
				if msg := checkSecretRef(ref); msg != "" {
					p.addf(kp, "%s", msg)
				}
			} else if ref, ok := strings.CutPrefix(env[k], EnvPrefix); ok && !envNameRe.MatchString(ref) {
				p.addf(kp, "%q after $E: is not an environment variable name; write $E:NAME with letters, digits and '_'", ref)
			}
		}
	}
}

// transport is the transport-layer protocol of an endpoint protocol; two
// endpoints clash when they share a port and a transport.
func transport(protocol string) string {
	if protocol == "udp" {
		return "udp"
	}
	return "tcp"
}

func (p *problems) validateEndpoints(ep string, eps []Endpoint) {
	names := make(map[string]int)
	ports := make(map[string]int)
	for i, e := range eps {
		ip := index(ep, i)
		if e.Name == "" {
			p.addf(field(ip, "name"), "missing; name the endpoint, like name: http")
		} else if msg := checkName(e.Name, "endpoint name"); msg != "" {
			p.addf(field(ip, "name"), "%s", msg)
		} else if j, dup := names[e.Name]; dup {
			p.addf(field(ip, "name"), "duplicate endpoint name %q (also %s); give each endpoint its own name", e.Name, index(ep, j))
		} else {
			names[e.Name] = i
		}
		switch e.Protocol {
		case "http", "https", "tcp", "udp", "websocket":
		case "":
			p.addf(field(ip, "protocol"), "missing; want http, https, tcp, udp or websocket")
		default:
			p.addf(field(ip, "protocol"), "unknown protocol %q (want http, https, tcp, udp or websocket)", e.Protocol)
		}
		if e.Port == 0 {
			p.addf(field(ip, "port"), "missing or 0; want a port from 1 to 65535")
		} else {
			key := fmt.Sprintf("%d/%s", e.Port, transport(e.Protocol))
			if j, dup := ports[key]; dup {
				p.addf(field(ip, "port"), "duplicate port %d/%s (also %s); give each endpoint its own port", e.Port, transport(e.Protocol), index(ep, j))
			} else {
				ports[key] = i
			}
		}
		switch e.Expose {
		case "", "internal", "public":
		default:
			p.addf(field(ip, "expose"), "unknown expose %q (want public or internal)", e.Expose)
		}
	}
}

func (p *problems) validateVolumes(vp string, vols []Volume) {
	names := make(map[string]int)
	paths := make(map[string]int)
	for i, v := range vols {
		ip := index(vp, i)
		if v.Name == "" {
			p.addf(field(ip, "name"), "missing; name the volume, like name: data")
		} else if msg := checkName(v.Name, "volume name"); msg != "" {
			p.addf(field(ip, "name"), "%s", msg)
		} else if j, dup := names[v.Name]; dup {
			p.addf(field(ip, "name"), "duplicate volume name %q (also %s); give each volume its own name", v.Name, index(vp, j))
		} else {
			names[v.Name] = i
		}
		switch {
		case v.Path == "":
			p.addf(field(ip, "path"), "missing; say where the volume appears in the workload, like path: /data")
		case !path.IsAbs(v.Path) || path.Clean(v.Path) == "/":
			p.addf(field(ip, "path"), "%q is not an absolute path below /; write it like /data", v.Path)
		default:
			clean := path.Clean(v.Path)
			if j, dup := paths[clean]; dup {
				p.addf(field(ip, "path"), "duplicate volume path %q (also %s); mount one volume per path", clean, index(vp, j))
			} else {
				paths[clean] = i
			}
		}
		if v.Source != "" && !path.IsAbs(v.Source) {
			p.addf(field(ip, "source"), "%q is not an absolute path; write the host directory from the root, or leave source out for a managed volume", v.Source)
		}
	}
}

func (p *problems) validateAuth(ap string, a *RegistryAuth) {
	switch {
	case a.Token != "" && (a.Username != "" || a.Password != ""):
		p.addf(ap, "has both a token and a username/password; use one or the other")
	case a.Token != "":
	case a.Username == "" && a.Password == "":
		p.addf(ap, "is empty; give username and password, or token")
	case a.Username == "":
		p.addf(field(ap, "username"), "missing; a password needs a username")
	case a.Password == "":
		p.addf(field(ap, "password"), "missing; a username needs a password")
	}
}

// checkName applies the rule runtime.ValidateServiceName applies to service
// names (spec cannot import runtime, which imports spec; a test keeps the two
// in step): 1 to 128 characters, letters, digits, '-', '_' and '.', starting
// with a letter or digit. what names the thing in the message.
func checkName(s, what string) string { return runtime.CheckName(s, what) }

// ValidateServiceName reports whether name can be a service's name: the
// rule of runtime.CheckName. The error wraps ErrInvalid.
func ValidateServiceName(name string) error {
	if msg := checkName(name, "service name"); msg != "" {
		return fmt.Errorf("%s: %w", msg, ErrInvalid)
	}
	return nil
}

// formatPlatform writes a platform as "os/arch/variant" for messages (the
// runtime package has the canonical formatter; spec cannot import it).
func formatPlatform(pl ocispec.Platform) string {
	switch {
	case pl.Variant != "":
		return pl.OS + "/" + pl.Architecture + "/" + pl.Variant
	case pl.Architecture != "":
		return pl.OS + "/" + pl.Architecture
	}
	return pl.OS
}

// checkDeploymentName applies ZLayer's rule to a deployment name: 3 to 63
// letters, digits and '-', starting with a letter or digit.
func checkDeploymentName(name string) string {
	if msg := checkName(name, "deployment name"); msg != "" {
		return msg
	}
	if len(name) < 3 || len(name) > 63 {
		return fmt.Sprintf("deployment name %q must be 3 to 63 characters", name)
	}
	if i := strings.IndexAny(name, "_."); i >= 0 {
		return fmt.Sprintf("deployment name %q may hold letters, digits and '-' only, not %q", name, name[i])
	}
	return ""
}

// cronParser reads ZLayer's schedules: seconds first, then minutes, hours,
// day of month, month and day of week.
var cronParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron service's schedule as ZLayer writes it:
// seconds first (six fields; a seventh, the year, may be *), or a
// descriptor like @hourly. The error wraps ErrInvalid.
func ParseSchedule(s string) (cron.Schedule, error) {
	f := strings.Fields(s)
	if len(f) == 7 {
		if f[6] != "*" {
			return nil, fmt.Errorf("schedule %q: a year other than * is not offered: %w", s, ErrInvalid)
		}
		s = strings.Join(f[:6], " ")
	}
	sched, err := cronParser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %s: %w", s, err.Error(), ErrInvalid)
	}
	return sched, nil
}

// checkSchedule says what is wrong with a schedule, or "".
func checkSchedule(s string) string {
	if f := strings.Fields(s); len(f) == 5 {
		return fmt.Sprintf("schedule %q has 5 fields; ZLayer's schedules start with seconds: write \"0 %s\"", s, s)
	}
	if _, err := ParseSchedule(s); err != nil {
		return strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error()) + " (want sec min hour day-of-month month day-of-week [year], like \"0 0 3 * * *\")"
	}
	return ""
}

// The prefixes of env values that the agent resolves at up, as ZLayer's:
// $E:NAME takes the agent's environment variable NAME, $S:NAME the secret
// NAME of the node's store. Only a value that starts with one is resolved.
const (
	EnvPrefix    = "$E:"
	SecretPrefix = "$S:"
)

// envNameRe is what an environment variable's name may be.
var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkSecretRef says what is wrong with the NAME of $S:NAME, or "".
func checkSecretRef(ref string) string {
	if strings.HasPrefix(ref, "@") {
		return fmt.Sprintf("%q is a cross-service secret reference, which this node does not offer; create the secret under a name of its own and write $S:NAME", SecretPrefix+ref)
	}
	if msg := secrets.CheckName(ref); msg != "" {
		return msg + "; write $S:NAME"
	}
	return ""
}

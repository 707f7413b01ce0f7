package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/runtime"
)

// maxMirrorLen bounds a HOST=MIRROR value; a host is at most 253
// characters and a repository prefix a few path elements.
const maxMirrorLen = 1024

// pathElement is one element of a repository path in the distribution
// spec's grammar; a mirror's prefix is made of them, so that the names the
// mirror is asked for are ones it can accept.
var pathElement = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// dockerHub is go-containerregistry's name for Docker Hub's registry, the
// registry of every reference without one (busybox → index.docker.io/library/busybox).
const dockerHub = name.DefaultRegistry

// mirror is one parsed mirror of a registry.
type mirror struct {
	host      string // host[:port], lower case
	prefix    string // repository path the mirror keeps the registry's repositories under; "" for none
	plainHTTP bool   // given as http://: spoken to without TLS
}

// String is the mirror's canonical form, which ParseMirror returns:
// [http://]host[:port][/prefix] (https is the default, so it is left out).
func (m mirror) String() string {
	s := m.host
	if m.prefix != "" {
		s += "/" + m.prefix
	}
	if m.plainHTTP {
		s = "http://" + s
	}
	return s
}

// ParseMirror parses a registry mirror as the daemon's --registry-mirror
// flag takes it, HOST=MIRROR, and returns the mirrored registry's host and
// the mirror, both in canonical form, ready for WithMirrors.
//
// HOST is a registry host[:port] as references name it (registry.k8s.io,
// gcr.io, 10.0.0.5:5000); Docker Hub may be spelled docker.io,
// index.docker.io or registry-1.docker.io, and is returned as
// index.docker.io, the registry of references that name none. MIRROR is
// [http://|https://]host[:port][/prefix]: http:// makes the mirror
// reachable over plain HTTP (as WithInsecureRegistries would); https, the
// default, is left out of the canonical form. A prefix is the path the
// mirror keeps the registry's repositories under, as a Harbor proxy
// project does: with prefix hub, busybox is asked of the mirror as
// hub/library/busybox. A loopback mirror may be reached over plain HTTP
// whatever its scheme, as every loopback registry may.
//
// Errors wrap runtime.ErrInvalidArgument and say what was wrong: no '=',
// an empty side, a HOST with a scheme or a path, a scheme other than http
// or https, credentials, a query or a fragment in MIRROR, a prefix that is
// not a repository path, or a mirror that is the registry itself.
func ParseMirror(s string) (host, mirror string, err error) {
	const want = "want HOST=MIRROR, like docker.io=mirror.example.com or registry.k8s.io=http://10.0.0.5:5000"
	if len(s) > maxMirrorLen {
		return "", "", fmt.Errorf("registry mirror %.40q... is %d characters long; the limit is %d: %w", s, len(s), maxMirrorLen, runtime.ErrInvalidArgument)
	}
	h, m, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return "", "", fmt.Errorf("registry mirror %q has no '=': %s: %w", s, want, runtime.ErrInvalidArgument)
	case h == "":
		return "", "", fmt.Errorf("registry mirror %q: the registry before '=' is empty: %s: %w", s, want, runtime.ErrInvalidArgument)
	case m == "":
		return "", "", fmt.Errorf("registry mirror %q: the mirror after '=' is empty: %s: %w", s, want, runtime.ErrInvalidArgument)
	}
	host, err = mirroredHost(h)
	if err != nil {
		return "", "", fmt.Errorf("registry mirror %q: %w", s, err)
	}
	mm, err := parseMirrorOf(host, m)
	if err != nil {
		return "", "", fmt.Errorf("registry mirror %q: %w", s, err)
	}
	return host, mm.String(), nil
}

// WithMirrors sets the mirrors of registries: mirrors maps a registry host
// to its mirrors, in the order they are tried, each in the forms
// ParseMirror accepts on either side of its '='. Every fetch of an image
// of that registry (Pull, InspectPlatforms) asks its mirrors first, under
// the same repository (behind the mirror's prefix, if any) and tag or
// digest, and falls back to the registry itself when a mirror fails: it
// lacks the image, cannot be reached, refuses, or serves bad content. The
// image is stored under the reference as given, never the mirror's name.
//
// Credentials given with a call (runtime.RegistryAuth) are the registry's
// and are sent to it alone; a mirror gets the keychain's credentials for
// the mirror's own host. An invalid host or mirror is an error wrapping
// runtime.ErrInvalidArgument. The option adds to mirrors set before.
func WithMirrors(mirrors map[string][]string) Option {
	return func(o *options) error {
		// Sorted, so that docker.io and index.docker.io, which are one
		// registry, merge in the same order every time.
		hosts := make([]string, 0, len(mirrors))
		for h := range mirrors {
			hosts = append(hosts, h)
		}
		slices.Sort(hosts)
		for _, h := range hosts {
			host, err := mirroredHost(h)
			if err != nil {
				return fmt.Errorf("registry mirrors: %w", err)
			}
			for _, s := range mirrors[h] {
				m, err := parseMirrorOf(host, s)
				if err != nil {
					return fmt.Errorf("registry mirrors of %s: %w", host, err)
				}
				if slices.Contains(o.mirrors[host], m) {
					continue
				}
				o.mirrors[host] = append(o.mirrors[host], m)
				if m.plainHTTP {
					// The user said the mirror speaks HTTP; the guard
					// transport would refuse it otherwise.
					o.insecure[m.host] = true
				}
			}
		}
		return nil
	}
}

// mirroredHost checks the registry side of a mirror and returns its
// canonical form, the key a reference's registry is looked up by.
func mirroredHost(h string) (string, error) {
	const want = "want a registry host[:port] as image references name it, like docker.io, registry.k8s.io or 10.0.0.5:5000"
	switch {
	case strings.Contains(h, "://"):
		return "", fmt.Errorf("registry %q: a registry is named without a scheme: %s: %w", h, want, runtime.ErrInvalidArgument)
	case strings.Contains(h, "/"):
		return "", fmt.Errorf("registry %q: a registry is a host, without a path: %s: %w", h, want, runtime.ErrInvalidArgument)
	}
	host, err := registryHost(h)
	if err != nil {
		return "", fmt.Errorf("registry %q: %w: %s: %w", h, err, want, runtime.ErrInvalidArgument)
	}
	return canonicalRegistry(host), nil
}

// canonicalRegistry maps Docker Hub's several names to the one
// go-containerregistry gives references, so that a mirror of docker.io
// serves busybox.
func canonicalRegistry(host string) string {
	host = strings.ToLower(host)
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return dockerHub
	}
	return host
}

// parseMirrorOf parses the mirror side, s, of a mirror of host (canonical).
func parseMirrorOf(host, s string) (mirror, error) {
	bad := func(why string) (mirror, error) {
		return mirror{}, fmt.Errorf("mirror %q: %s: want [http://|https://]host[:port][/prefix], like mirror.example.com, 127.0.0.1:5001 or http://10.0.0.5:5000/dockerhub: %w",
			s, why, runtime.ErrInvalidArgument)
	}
	if s == "" {
		return bad("it is empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return bad("it has a space, a control character or a non-ASCII character (write an international host name in its xn-- form)")
	}
	var m mirror
	rest := s
	if scheme, after, ok := strings.Cut(s, "://"); ok {
		switch strings.ToLower(scheme) {
		case "http":
			m.plainHTTP = true
		case "https":
		default:
			return bad(fmt.Sprintf("the scheme %q is neither http nor https", scheme))
		}
		rest = after
	}
	switch {
	case strings.ContainsAny(rest, "?#"):
		return bad("a query or a fragment cannot be honoured: a mirror is a host and at most a repository prefix")
	case strings.Contains(rest, "@"):
		return bad("credentials do not belong in the address: log in to the mirror (switchyard login) instead")
	case strings.Contains(rest, "\\"):
		return bad("a backslash is not allowed")
	}
	hostPart, prefix, _ := strings.Cut(rest, "/")
	h, err := registryHost(hostPart)
	if err != nil {
		return bad(err.Error())
	}
	m.host = h
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		for i, e := range strings.Split(prefix, "/") {
			if i == 0 && e == "v2" {
				return bad("the path /v2 is the registry API's, which the client adds: give the mirror's host, and a prefix only if the mirror keeps the registry's repositories under one")
			}
			if !pathElement.MatchString(e) {
				return bad(fmt.Sprintf("the prefix element %q is not a repository path element (lower-case letters and digits, joined by '.', '_', '__' or dashes)", e))
			}
		}
		m.prefix = prefix
	}
	if m.prefix == "" && canonicalRegistry(m.host) == host {
		return bad("it is the registry " + host + " itself")
	}
	return m, nil
}

// registryHost checks a host[:port] (lower-cased): a DNS name or an IPv4
// address, or an IPv6 address in brackets, and a port from 1 to 65535.
func registryHost(h string) (string, error) {
	h = strings.ToLower(h)
	if h == "" {
		return "", errors.New("the host is empty")
	}
	hostname, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.Index(h, "]")
		if end < 0 {
			return "", errors.New("the IPv6 address has no closing ']'")
		}
		hostname = h[1:end]
		ip := net.ParseIP(hostname)
		if ip == nil || ip.To4() != nil || strings.Contains(hostname, "%") {
			return "", fmt.Errorf("%q is not an IPv6 address", hostname)
		}
		switch after := h[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
			if port == "" {
				return "", errors.New("the port after ':' is empty")
			}
		default:
			return "", fmt.Errorf("%q follows the IPv6 address; want :port or nothing", after)
		}
	} else {
		if i := strings.LastIndex(h, ":"); i >= 0 {
			hostname, port = h[:i], h[i+1:]
			if port == "" {
				return "", errors.New("the port after ':' is empty")
			}
		}
		if err := checkHostname(hostname); err != nil {
			return "", err
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return "", fmt.Errorf("the port %q is not a number from 1 to 65535", port)
		}
	}
	// go-containerregistry must accept it too, or no reference could be
	// made on it.
	if _, err := name.NewRegistry(h); err != nil {
		return "", err
	}
	return h, nil
}

// checkHostname accepts a DNS name (labels of letters, digits and inner
// dashes) or an IPv4 address, lower case.
func checkHostname(s string) error {
	if s == "" {
		return errors.New("the host name is empty")
	}
	if len(s) > 253 {
		return fmt.Errorf("the host name is %d characters long; the limit is 253", len(s))
	}
	if strings.Contains(s, ":") {
		return fmt.Errorf("%q: an IPv6 address goes in brackets, like [::1]:5000", s)
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.ContainsFunc(label, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) {
			return fmt.Errorf("%q is not a host name: want labels of letters, digits and inner dashes, joined by dots", s)
		}
	}
	return nil
}

// source is one place an image is fetched from: a mirror of its registry,
// or the registry itself.
type source struct {
	ref    name.Reference
	what   string                // "image REF" or "image REF from mirror M", for errors
	auth   *runtime.RegistryAuth // the caller's credentials for the registry itself; nil (the keychain) for a mirror
	mirror string                // the mirror's canonical form; "" for the registry itself
}

// sources returns where r may be fetched from, in the order to try: the
// mirrors of its registry, then the registry.
func (c *client) sources(r name.Reference, auth *runtime.RegistryAuth) []source {
	what := "image " + r.Name()
	ms := c.o.mirrors[canonicalRegistry(r.Context().RegistryStr())]
	out := make([]source, 0, len(ms)+1)
	for _, m := range ms {
		ref, err := c.o.mirrorReference(m, r)
		if err != nil {
			// Not expected: the mirror's host was checked when it was
			// parsed. The registry itself is still there to ask.
			c.o.logger.Warn("registry mirror skipped", "image", r.Name(), "mirror", m.String(), "err", err)
			continue
		}
		out = append(out, source{ref: ref, what: what + " from mirror " + m.String(), mirror: m.String()})
	}
	return append(out, source{ref: r, what: what, auth: auth})
}

// mirrorReference is r on mirror m: the same repository (behind m's
// prefix) and the same tag or digest.
func (o *options) mirrorReference(m mirror, r name.Reference) (name.Reference, error) {
	var nopts []name.Option
	if m.plainHTTP || o.plainHTTPAllowed(m.host) {
		// go-containerregistry then tries https and http both.
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(m.host, nopts...)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w: %w", m, runtime.ErrInvalidArgument, err)
	}
	repo := reg.Repo(m.prefix, r.Context().RepositoryStr())
	switch r := r.(type) {
	case name.Digest:
		return repo.Digest(r.DigestStr()), nil
	case name.Tag:
		return repo.Tag(r.TagStr()), nil
	}
	return nil, fmt.Errorf("reference %s of type %T: %w", r, r, runtime.ErrInvalidArgument)
}

// fromSources runs fetch against each source of r in turn (its registry's
// mirrors, then the registry) until one succeeds.
//
// A mirror's failure moves on to the next source whatever its kind — not
// found, unreachable, refused credentials, a server error, bad content —
// as containerd's and CRI-O's mirrors do: a mirror is a shortcut, and a
// broken one must not stop a pull its registry can serve. Two failures
// stop at the mirror, because no other source can change them: the caller
// gave up (ctx is done), and the mirror's image has nothing for the
// platforms wanted or the node is out of space (runtime.ErrNotSupported,
// runtime.ErrResourceExhausted). When the registry fails too, its error is
// returned, with its kind, and the mirrors' errors are told after it.
func (c *client) fromSources(ctx context.Context, r name.Reference, auth *runtime.RegistryAuth, fetch func(src source, p *remote.Puller) error) error {
	srcs := c.sources(r, auth)
	var mirrorErrs []string
	for i, src := range srcs {
		p, err := c.puller(src.auth)
		if err == nil {
			err = fetch(src, p)
		}
		if err == nil {
			if len(mirrorErrs) > 0 {
				c.o.logger.Info("registry mirrors failed; fetched from the registry itself", "image", r.Name(), "mirrors", len(mirrorErrs))
			}
			return nil
		}
		if src.mirror == "" {
			if len(mirrorErrs) > 0 {
				return fmt.Errorf("%w (after its mirrors failed: %s)", err, strings.Join(mirrorErrs, "; "))
			}
			return err
		}
		c.forgetIfUnauthorized(src.auth, err)
		if ctx.Err() != nil || errors.Is(err, runtime.ErrNotSupported) || errors.Is(err, runtime.ErrResourceExhausted) {
			return err
		}
		// A mirror lacking an image is ordinary (a partial mirror, a cache
		// not yet filled); one that fails otherwise needs looking at.
		level := slog.LevelWarn
		if errors.Is(err, runtime.ErrNotFound) {
			level = slog.LevelInfo
		}
		next := srcs[i+1].mirror
		if next == "" {
			next = srcs[i+1].ref.Context().RegistryStr()
		}
		c.o.logger.Log(ctx, level, "registry mirror failed; trying the next source", "image", r.Name(), "mirror", src.mirror, "next", next, "err", err)
		mirrorErrs = append(mirrorErrs, err.Error())
	}
	// Not reached: the registry itself is always the last source.
	return fmt.Errorf("image %s: no source to fetch it from: %w", r.Name(), runtime.ErrUnavailable)
}

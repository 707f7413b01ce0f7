package registry

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/switchyard/switchyard/runtime"
)

// maxReferenceLen bounds a reference; the distribution spec allows 255
// characters of repository name, plus a registry, a tag or a digest.
const maxReferenceLen = 1024

// ParseReference parses an image reference as docker does (busybox,
// busybox:1.36, 127.0.0.1:5000/app@sha256:...), filling in the default
// registry, the library/ namespace and the latest tag. The
// error wraps runtime.ErrInvalidArgument and says what was wrong.
func ParseReference(s string) (name.Reference, error) {
	return parseReference(s, nil)
}

// NormalizeReference returns the full form of a reference
// (busybox → <default registry>/library/busybox:latest), the form the image
// store keys images by.
func NormalizeReference(ref string) (string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	return r.Name(), nil
}

func parseReference(s string, o *options) (name.Reference, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("image reference is empty: give one like busybox:latest or host:5000/repo@sha256:<hex>: %w", runtime.ErrInvalidArgument)
	case len(s) > maxReferenceLen:
		return nil, fmt.Errorf("image reference %.40q... is %d characters long; the limit is %d: %w", s, len(s), maxReferenceLen, runtime.ErrInvalidArgument)
	case strings.TrimSpace(s) != s:
		return nil, fmt.Errorf("image reference %q has leading or trailing spaces: %w", s, runtime.ErrInvalidArgument)
	}
	var opts []name.Option
	if o != nil {
		if reg := registryPart(s); reg != "" && o.insecure[reg] {
			opts = append(opts, name.Insecure)
		}
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		var bad *name.ErrBadName
		if errors.As(err, &bad) {
			return nil, fmt.Errorf("image reference %q: %w: want [registry/]repository[:tag|@sha256:<64 hex>] in lower case: %w", s, runtime.ErrInvalidArgument, err)
		}
		return nil, fmt.Errorf("image reference %q: %w: %w", s, runtime.ErrInvalidArgument, err)
	}
	return ref, nil
}

// registryPart returns the registry of a reference string when it names one
// explicitly (the first path element has a dot or a colon, or is
// localhost), as docker decides.
func registryPart(s string) string {
	first, _, ok := strings.Cut(s, "/")
	if !ok {
		return ""
	}
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return first
	}
	return ""
}

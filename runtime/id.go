package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// replicaSep separates the service name from the replica number in a
// ContainerID's string form.
const replicaSep = "-rep-"

// ContainerID identifies one replica of one service. Its string form is
// "<service>-rep-<replica>" (web-rep-0); ParseContainerID is its exact
// inverse, so the string form can name a container in paths, logs and URLs.
type ContainerID struct {
	Service string
	Replica uint32
}

// String returns the stable string form, "<service>-rep-<replica>".
func (id ContainerID) String() string {
	return id.Service + replicaSep + strconv.FormatUint(uint64(id.Replica), 10)
}

// Validate reports whether id can be written and parsed back: the service
// name is 1 to 128 characters of [a-zA-Z0-9_.-], starting with a letter or
// digit. The error wraps ErrInvalidArgument.
func (id ContainerID) Validate() error {
	return ValidateServiceName(id.Service)
}

// ValidateServiceName reports whether name can be the service part of a
// ContainerID. The error wraps ErrInvalidArgument and says what was wrong.
func ValidateServiceName(name string) error {
	if msg := CheckName(name, "service name"); msg != "" {
		return fmt.Errorf("%s: %w", msg, ErrInvalidArgument)
	}
	return nil
}

// CheckName says what is wrong with s as a name (of a service, a volume, a
// deployment), or "" when nothing is: 1 to 128 letters, digits, '-', '_' and
// '.', starting with a letter or digit. what names it in the message. It is
// the one rule for every name that becomes part of a path or an id.
func CheckName(s, what string) string {
	if s == "" {
		return what + " is empty"
	}
	if len(s) > 128 {
		return fmt.Sprintf("%s %q is longer than 128 characters", what, s)
	}
	// By rune, so that a message names the character written (é, not Ã).
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return fmt.Sprintf("%s %q must start with a letter or digit", what, s)
		}
		if !alnum && c != '-' && c != '_' && c != '.' {
			return fmt.Sprintf("%s %q has %q; use letters, digits, '-', '_' and '.'", what, s, c)
		}
	}
	return ""
}

// ParseContainerID parses the string form written by ContainerID.String.
// The service part may itself contain dashes (and even "-rep-"): the replica
// is what follows the last "-rep-". The replica is a decimal uint32 without
// sign or leading zeros, so that parsing and formatting are exact inverses.
// The error wraps ErrInvalidArgument.
func ParseContainerID(s string) (ContainerID, error) {
	i := strings.LastIndex(s, replicaSep)
	if i < 0 {
		return ContainerID{}, fmt.Errorf("container id %q: want <service>-rep-<n>: %w", s, ErrInvalidArgument)
	}
	service, num := s[:i], s[i+len(replicaSep):]
	if num == "" || (len(num) > 1 && num[0] == '0') || num[0] == '+' || num[0] == '-' {
		return ContainerID{}, fmt.Errorf("container id %q: replica %q is not a plain decimal number: %w", s, num, ErrInvalidArgument)
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return ContainerID{}, fmt.Errorf("container id %q: replica %q is not a number from 0 to 4294967295: %w", s, num, ErrInvalidArgument)
	}
	id := ContainerID{Service: service, Replica: uint32(n)}
	if err := id.Validate(); err != nil {
		return ContainerID{}, fmt.Errorf("container id %q: %w", s, err)
	}
	return id, nil
}

// GeneratedName names a container its user did not name: the image's
// repository name, lower-cased to what a service name may hold, and a
// random suffix (busybox-3fa2c1). Every front door names them so.
func GeneratedName(image string) string {
	base := image
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	base = path.Base(base)
	if i := strings.LastIndexByte(base, ':'); i >= 0 {
		base = base[:i]
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, base)
	clean = strings.TrimLeft(clean, "-_.")
	if clean == "" {
		clean = "c"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return clean + "-" + hex.EncodeToString(b[:])
}

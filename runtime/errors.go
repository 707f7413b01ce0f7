package runtime

import (
	"errors"
	"fmt"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The error kinds of the contract. Implementations wrap one of them with %w
// after the object's identity ("container web-rep-0: %w"); callers test with
// errors.Is. The set is small and closed on purpose: add a kind only when a
// caller must act differently on it.
var (
	// ErrNotFound: the container, image or dispatch record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a container or tag of that name exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrNotSupported: the runtime cannot do this at all (exec in a wasm
	// module, a platform it does not serve). Never a silent success.
	ErrNotSupported = errors.New("not supported")
	// ErrInvalidArgument: the request itself is wrong (a bad signal name, an
	// empty image reference); retrying it unchanged cannot succeed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrFailedPrecondition: the request is valid but the object is in the
	// wrong state for it (exec in a stopped container, removing a running
	// container without force, removing an image a container uses).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrUnavailable: the runtime or something it depends on cannot be
	// reached now (a delegate agent that is down); retrying later may work.
	ErrUnavailable = errors.New("unavailable")
	// ErrResourceExhausted: the node lacks a resource the call needs (its
	// disk is full, a quota is used up); freeing some and retrying helps.
	// An error of ENOSPC or EDQUOT is of this kind (KindOf).
	ErrResourceExhausted = errors.New("resource exhausted")
)

// RouteToPeerError is the answer when no runtime on this node serves the
// platform a workload needs. It carries what a scheduler or an operator
// needs to act: the service, the platform, the image when the platform came
// from the image, and a reason that names the remedies.
type RouteToPeerError struct {
	// Service is the service whose container could not be placed.
	Service string
	// Platform is the platform that no runtime here serves, formatted by
	// FormatPlatform ("linux/amd64", "windows", "wasip1/wasm").
	Platform string
	// Image is set when the platform was read from the image (not declared).
	Image string
	// Reason explains the miss and names the remedies: the daemon option that
	// enables a runtime for the platform here, or a peer node of that platform.
	Reason string
}

// Error implements error.
func (e *RouteToPeerError) Error() string {
	switch {
	case e.Service != "":
		return fmt.Sprintf("route to peer: service %q needs platform %s: %s", e.Service, e.Platform, e.Reason)
	case e.Image != "":
		// A pull has no service yet: the image is what needs the platform.
		return fmt.Sprintf("route to peer: image %s needs platform %s: %s", e.Image, e.Platform, e.Reason)
	}
	return fmt.Sprintf("route to peer: platform %s: %s", e.Platform, e.Reason)
}

// FormatPlatform formats p for people and errors: "os/arch[/variant]", or
// just the OS when no architecture is known. The OS version (Windows builds
// record one) is left out: platforms are matched and routed without it.
func FormatPlatform(p ocispec.Platform) string {
	if p.Architecture == "" {
		return p.OS
	}
	return platforms.Format(p)
}

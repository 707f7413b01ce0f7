package imagebuild

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/switchyard/switchyard/runtime"
)

// Reference returns the tag host/repo, where repo may carry a tag
// ("busybox:1.36"; default latest). Plain HTTP is allowed only when host is
// a loopback address or localhost (a registry started next to the tests or
// the demo); any other host is spoken to over HTTPS. A reference that does
// not parse is an error wrapping runtime.ErrInvalidArgument.
func Reference(host, repo string) (name.Tag, error) {
	s := host + "/" + repo
	if i := strings.LastIndex(repo, ":"); i < 0 || strings.Contains(repo[i:], "/") {
		s += ":latest"
	}
	var opts []name.Option
	if IsLoopback(host) {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(s, opts...)
	if err != nil {
		return name.Tag{}, fmt.Errorf("imagebuild: reference %q (want host[:port]/repo[:tag]): %w: %w",
			s, runtime.ErrInvalidArgument, err)
	}
	return ref, nil
}

// IsLoopback reports whether host ("127.0.0.1:5000", "localhost",
// "[::1]:5000") names this machine's loopback interface.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Push writes img (a v1.Image or a v1.ImageIndex) to ref with ctx. Extra
// options (remote.WithAuth, ...) are passed to the write. Anything else
// than an image or an index is an error wrapping
// runtime.ErrInvalidArgument.
func Push(ctx context.Context, ref name.Reference, img remote.Taggable, opts ...remote.Option) error {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	var err error
	switch x := img.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, x, opts...)
	case v1.Image:
		err = remote.Write(ref, x, opts...)
	default:
		return fmt.Errorf("imagebuild: push %s of %T: want a v1.Image or v1.ImageIndex: %w", ref, img, runtime.ErrInvalidArgument)
	}
	if err != nil {
		return fmt.Errorf("imagebuild: push %s: %w", ref, err)
	}
	return nil
}

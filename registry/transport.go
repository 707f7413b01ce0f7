package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// guardTransport sits under go-containerregistry's transports, next to the
// network, and enforces two things on every request:
//
//   - plain HTTP only to loopback and to registries the user marked
//     insecure; go-containerregistry would otherwise also fall back to HTTP
//     for private (RFC 1918) addresses;
//   - content fetched by digest (manifests and blobs under /v2/) hashes to
//     that digest. go-containerregistry checks too, but with errors a
//     caller cannot test; checking here first yields ErrDigestMismatch.
//
// It also answers repeated version checks (GET /v2/) from a short-lived
// cache, so a registry is pinged once rather than once per repository.
type guardTransport struct {
	base  http.RoundTripper
	o     *options
	pings *pingCache
}

// RoundTrip implements http.RoundTripper.
func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.o.plainHTTPAllowed(req.URL.Host) {
		return nil, fmt.Errorf("registry %s: refusing plain HTTP to a registry that is not loopback; mark it insecure (WithInsecureRegistries) if it has no TLS: %w", req.URL.Host, runtime.ErrFailedPrecondition)
	}
	ping := isPing(req)
	if ping {
		if resp, err := g.pings.get(req); resp != nil || err != nil {
			return resp, err
		}
	}
	resp, err := g.roundTrip(req)
	if err == nil && ping {
		return g.pings.put(req, resp), nil
	}
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	if want, ok := digestOfPath(req.URL.Path); ok {
		resp.Body = &verifyingBody{rc: resp.Body, want: want, size: resp.ContentLength, h: sha256.New(), url: req.URL.Redacted()}
	}
	return resp, nil
}

// errSilent is the cause a registry call is cancelled with when the
// registry stays silent past a bound.
var errSilent = errors.New("registry silent")

// roundTrip sends req with the two bounds of a registry call: its headers
// must come within headerTimeout, and no read of its body may wait longer
// than stallTimeout. A call cut by a bound fails with an error
// that says which and wraps ErrUnreachable.
func (g *guardTransport) roundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(g.o.headerTimeout, func() { cancel(errSilent) })
	resp, err := g.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		if errors.Is(context.Cause(ctx), errSilent) {
			err = fmt.Errorf("registry %s accepted the request for %s and sent no answer within %v: %w", req.URL.Host, req.URL.Path, g.o.headerTimeout, ErrUnreachable)
		}
		cancel(nil)
		return nil, err
	}
	// From now on the timer watches the body, and only while a read waits
	// for it: time the consumer spends between reads (writing to disk,
	// reporting progress) is not the registry's silence.
	timer.Stop()
	resp.Body = &stallBody{rc: resp.Body, timer: timer, stall: g.o.stallTimeout, ctx: ctx, cancel: cancel, url: req.URL.Redacted()}
	return resp, nil
}

// stallBody fails a body when one read waits past its bound.
type stallBody struct {
	rc     io.ReadCloser
	timer  *time.Timer
	stall  time.Duration
	ctx    context.Context
	cancel context.CancelCauseFunc
	url    string
}

func (b *stallBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.stall)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if err != nil && err != io.EOF && errors.Is(context.Cause(b.ctx), errSilent) {
		err = fmt.Errorf("registry download %s sent nothing for %v; the registry stalled (it may be overloaded): %w", b.url, b.stall, ErrUnreachable)
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// digestOfPath returns the sha256 hex a distribution API path asks for:
// /v2/<name>/manifests/sha256:<hex> or /v2/<name>/blobs/sha256:<hex>.
func digestOfPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/v2/") {
		return "", false
	}
	i := strings.LastIndex(p, "/")
	hexd, ok := strings.CutPrefix(p[i+1:], "sha256:")
	if !ok || len(hexd) != 64 {
		return "", false
	}
	kind := p[strings.LastIndex(p[:i], "/")+1 : i]
	if kind != "manifests" && kind != "blobs" {
		return "", false
	}
	return hexd, true
}

// verifyingBody hashes a response body as it is read and fails the read
// that completes it (at Content-Length, or at EOF when the length is
// unknown) with ErrDigestMismatch when the hash differs.
type verifyingBody struct {
	rc   io.ReadCloser
	want string
	size int64 // -1 when unknown
	h    hash.Hash
	n    int64
	url  string
	done bool
}

func (v *verifyingBody) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if !v.done && (err == io.EOF || v.size >= 0 && v.n == v.size) {
		v.done = true
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("%s: got sha256:%s after %d bytes, want sha256:%s: %w", v.url, got, v.n, v.want, ErrDigestMismatch)
		}
	}
	return n, err
}

func (v *verifyingBody) Close() error { return v.rc.Close() }

// verifyBytes checks b against a "sha256:<hex>" digest.
func verifyBytes(what string, b []byte, digest string) error {
	sum := sha256.Sum256(b)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != digest {
		return fmt.Errorf("%s: got %s, want %s: %w", what, got, digest, ErrDigestMismatch)
	}
	return nil
}

package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// maxConfigSize bounds an image config blob read for inspection.
const maxConfigSize = 16 << 20

// client is what the Inspector and the ImageService share: the options,
// and the go-containerregistry pullers that keep authenticated transports
// between calls (one per set of credentials; each caches a transport per
// repository, so the handshake is paid once per repository).
type client struct {
	o     options
	pings *pingCache

	mu      sync.Mutex
	pullers map[authKey]*remote.Puller // guarded by mu
}

// authKey tells pullers apart by the credentials they use; the zero value
// is the keychain.
type authKey struct {
	explicit                  bool
	username, password, token string
}

func newClient(opts []Option) (*client, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	return &client{o: o, pings: &pingCache{entries: map[string]pingEntry{}}, pullers: map[authKey]*remote.Puller{}}, nil
}

func keyOf(auth *runtime.RegistryAuth) authKey {
	if auth == nil {
		return authKey{}
	}
	return authKey{explicit: true, username: auth.Username, password: auth.Password, token: auth.Token}
}

// forgetIfUnauthorized drops the puller for auth after err if err says the
// registry refused the credentials: the puller keeps the credentials it
// resolved per repository, and a user who logs in (or fixes the keychain)
// after a refusal must not keep getting the old answer.
func (c *client) forgetIfUnauthorized(auth *runtime.RegistryAuth, err error) {
	if !errors.Is(err, ErrUnauthorized) {
		return
	}
	c.mu.Lock()
	delete(c.pullers, keyOf(auth))
	c.mu.Unlock()
}

// puller returns the puller for auth (nil = the keychain), making it once.
func (c *client) puller(auth *runtime.RegistryAuth) (*remote.Puller, error) {
	key := keyOf(auth)
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pullers[key]; ok {
		return p, nil
	}
	ropts := []remote.Option{
		remote.WithTransport(&guardTransport{base: c.o.transport, o: &c.o, pings: c.pings}),
		remote.WithUserAgent(c.o.userAgent),
	}
	if auth != nil {
		// A token is sent as a bearer token as it is; a registry that wants
		// an OAuth2 exchange takes it as the password of a username.
		ropts = append(ropts, remote.WithAuth(authn.FromConfig(authn.AuthConfig{
			Username: auth.Username, Password: auth.Password, RegistryToken: auth.Token,
		})))
	} else {
		ropts = append(ropts, remote.WithAuthFromKeychain(c.o.keychain))
	}
	p, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	c.pullers[key] = p
	return p, nil
}

// fetchConfig reads a config blob of repo, bounded and verified.
func fetchConfig(ctx context.Context, p *remote.Puller, repo name.Repository, d ocispec.Descriptor) ([]byte, error) {
	what := "config " + d.Digest.String()
	if d.Size > maxConfigSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d byte limit: %w", what, d.Size, maxConfigSize, ErrBadContent)
	}
	l, err := p.Layer(ctx, repo.Digest(d.Digest.String()))
	if err != nil {
		return nil, translate(what, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, translate(what, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxConfigSize+1))
	if err != nil {
		return nil, translate(what, err)
	}
	if err := verifyBytes(what, b, d.Digest.String()); err != nil {
		return nil, err
	}
	return b, nil
}

// pingTTL is how long a registry's answer to GET /v2/ is reused.
const pingTTL = 5 * time.Minute

// pingCache keeps registries' answers to GET /v2/ (the version check
// go-containerregistry makes before it talks to a new repository), so that
// the check costs one request per registry rather than one per repository.
type pingCache struct {
	mu      sync.Mutex
	entries map[string]pingEntry // by scheme://host; guarded by mu
}

type pingEntry struct {
	status int
	header http.Header
	body   []byte
	at     time.Time
}

func isPing(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Path == "/v2/" && req.Header.Get("Authorization") == ""
}

// get answers req from the cache, or returns nil. An https ping is answered
// with an error when the same host is known to speak plain HTTP, so that the
// parallel https/http ping for a loopback registry costs nothing either.
func (pc *pingCache) get(req *http.Request) (*http.Response, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	now := time.Now()
	e, ok := pc.entries[req.URL.Scheme+"://"+req.URL.Host]
	if !ok || now.Sub(e.at) > pingTTL {
		if h, ok := pc.entries["http://"+req.URL.Host]; ok && req.URL.Scheme == "https" && now.Sub(h.at) <= pingTTL {
			return nil, fmt.Errorf("registry %s speaks plain HTTP (answer cached)", req.URL.Host)
		}
		return nil, nil
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", e.status, http.StatusText(e.status)),
		StatusCode:    e.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        e.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)),
		Request:       req,
	}, nil
}

// put records a ping's answer when it is one worth keeping (200, or 401
// with its challenge) and gives the caller an unread copy of the body.
func (pc *pingCache) put(req *http.Request, resp *http.Response) *http.Response {
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return resp
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp
	}
	pc.mu.Lock()
	pc.entries[req.URL.Scheme+"://"+req.URL.Host] = pingEntry{status: resp.StatusCode, header: resp.Header.Clone(), body: body, at: time.Now()}
	pc.mu.Unlock()
	return resp
}

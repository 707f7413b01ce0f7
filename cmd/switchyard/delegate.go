package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/agent"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/remote"
	"github.com/switchyard/switchyard/spec"
)

// delegateFlags configure the delegate agents this daemon hands platforms
// to, and the TCP listener through which this daemon serves as a delegate.
type delegateFlags struct {
	delegates  []string // NAME=ADDRESS
	platforms  []string // NAME=PLATFORM[,PLATFORM]
	caFile     string
	certFile   string
	keyFile    string
	tokenFile  string
	listen     string
	tlsCert    string
	tlsKey     string
	tlsCA      string
	listenTok  string
	insecureOK bool
}

func (f *delegateFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.delegates, "delegate", nil, "hand workloads to another agent: NAME=ADDRESS, ADDRESS unix:///path or https://host:port (repeatable; after the local runtimes unless --runtimes names it)")
	fl.StringArrayVar(&f.platforms, "delegate-platform", nil, "platforms a delegate claims while it cannot be asked: NAME=linux/amd64[,...] (repeatable)")
	fl.StringVar(&f.caFile, "delegate-ca", "", "CA certificate that signed the delegates' TLS certificates")
	fl.StringVar(&f.certFile, "delegate-cert", "", "client certificate to present to delegates")
	fl.StringVar(&f.keyFile, "delegate-key", "", "key of --delegate-cert")
	fl.StringVar(&f.tokenFile, "delegate-token-file", "", "file holding the bearer token delegates expect")
	fl.StringVar(&f.listen, "listen", "", "also serve the API on TCP, tcp://HOST:PORT (TLS, and a token or client certificates, required)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate of --listen")
	fl.StringVar(&f.tlsKey, "tls-key", "", "key of --tls-cert")
	fl.StringVar(&f.tlsCA, "tls-client-ca", "", "require client certificates signed by this CA on --listen")
	fl.StringVar(&f.listenTok, "token-file", "", "require this file's bearer token on --listen")
	fl.BoolVar(&f.insecureOK, "insecure-listen", false, "allow --listen without TLS or authentication (loopback addresses only)")
}

// readToken reads a token file, trimming the trailing newline editors add.
func readToken(path, flag string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s: %s is empty; write the token into it", flag, path)
	}
	return tok, nil
}

// listenOptions validates --listen and its security flags and returns the
// agent options that serve the API on it. It refuses plain TCP without
// authentication unless the address is loopback and --insecure-listen is set.
func (f *delegateFlags) listenOptions() ([]agent.Option, error) {
	if f.listen == "" {
		if f.tlsCert != "" || f.tlsKey != "" || f.tlsCA != "" || f.listenTok != "" {
			return nil, fmt.Errorf("--tls-cert, --tls-key, --tls-client-ca and --token-file configure --listen; pass --listen tcp://HOST:PORT too")
		}
		return nil, nil
	}
	addr, ok := strings.CutPrefix(f.listen, "tcp://")
	if !ok {
		return nil, fmt.Errorf("--listen %q: want tcp://HOST:PORT", f.listen)
	}
	var tlsCfg *tls.Config
	if f.tlsCert != "" || f.tlsKey != "" {
		cfg, err := server.ServerTLSConfig(f.tlsCert, f.tlsKey, f.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--listen: %w", err)
		}
		tlsCfg = cfg
	} else if f.tlsCA != "" {
		return nil, fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key")
	}
	token, err := readToken(f.listenTok, "--token-file")
	if err != nil {
		return nil, err
	}
	if err := server.CheckListen(addr, tlsCfg, token, f.insecureOK); err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	ln, err := server.ListenTCP(addr, tlsCfg)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	opts := []agent.Option{agent.WithListener(ln)}
	if token != "" {
		opts = append(opts, agent.WithServerOptions(server.WithToken(token)))
	}
	if f.tlsCA != "" {
		opts = append(opts, agent.WithServerOptions(server.WithClientCertRequired()))
	}
	return opts, nil
}

// buildDelegates makes a remote runtime per --delegate, in flag order.
func (f *delegateFlags) buildDelegates(log *slog.Logger) ([]*remote.Runtime, error) {
	if len(f.delegates) == 0 {
		return nil, nil
	}
	claims := map[string][]string{}
	for _, p := range f.platforms {
		name, list, ok := strings.Cut(p, "=")
		if !ok || name == "" || list == "" {
			return nil, fmt.Errorf("--delegate-platform %q: want NAME=PLATFORM[,PLATFORM]", p)
		}
		claims[name] = append(claims[name], splitList(list)...)
	}
	var copts []client.Option
	if f.caFile != "" || f.certFile != "" || f.keyFile != "" {
		cfg, err := client.TLSConfig(f.caFile, f.certFile, f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("delegate TLS: %w", err)
		}
		copts = append(copts, client.WithTLSConfig(cfg))
	}
	token, err := readToken(f.tokenFile, "--delegate-token-file")
	if err != nil {
		return nil, err
	}
	if token != "" {
		copts = append(copts, client.WithToken(token))
	}
	var out []*remote.Runtime
	seen := map[string]bool{}
	for _, d := range f.delegates {
		name, addr, ok := strings.Cut(d, "=")
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("--delegate %q: want NAME=ADDRESS, such as wsl=unix:///run/wsl/switchyard.sock or peer=https://10.0.0.2:7443", d)
		}
		if seen[name] {
			return nil, fmt.Errorf("--delegate %q: two delegates are named %s", d, name)
		}
		seen[name] = true
		ropts := []remote.Option{remote.WithLogger(log), remote.WithClientOptions(copts...)}
		if ps := claims[name]; len(ps) > 0 {
			plats := make([]ocispec.Platform, 0, len(ps))
			for _, s := range ps {
				p, err := spec.ParsePlatform(s)
				if err != nil {
					return nil, fmt.Errorf("--delegate-platform %s: %w", name, err)
				}
				plats = append(plats, p)
			}
			ropts = append(ropts, remote.WithPlatforms(plats...))
		}
		rt, err := remote.New(name, addr, ropts...)
		if err != nil {
			for _, r := range out {
				_ = r.Close()
			}
			return nil, fmt.Errorf("--delegate %s: %w", name, err)
		}
		out = append(out, rt)
	}
	for name := range claims {
		if !seen[name] {
			return nil, fmt.Errorf("--delegate-platform names %s, but no --delegate is named so", name)
		}
	}
	return out, nil
}

// order puts the runtimes in preference order: those --runtimes names (a
// delegate by its NAME), in its order, then the other delegates in flag
// order.
func order(names []string, local map[string]runtime.Containers, delegates []*remote.Runtime) ([]runtime.Containers, error) {
	byName := map[string]runtime.Containers{}
	for n, rt := range local {
		byName[n] = rt
	}
	for _, d := range delegates {
		n := strings.TrimPrefix(d.Name(), "remote:")
		byName[n] = d
	}
	var out []runtime.Containers
	used := map[string]bool{}
	for _, n := range names {
		rt, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("--runtimes: unknown runtime %q (this node offers runc and wasm, and the --delegate names)", n)
		}
		if used[n] {
			return nil, fmt.Errorf("--runtimes: %s is named twice", n)
		}
		used[n] = true
		out = append(out, rt)
	}
	for _, d := range delegates {
		if n := strings.TrimPrefix(d.Name(), "remote:"); !used[n] {
			out = append(out, d)
		}
	}
	return out, nil
}

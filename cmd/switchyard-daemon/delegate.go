package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/agent/node"
)

// delegateFlags configure the delegate agents this daemon hands platforms
// to, and the TCP listener through which this daemon serves as a delegate.
type delegateFlags struct {
	delegates []string // NAME=ADDRESS
	platforms []string // NAME=PLATFORM[,PLATFORM]
}

// register binds the delegate and listen flags, into f and cfg.
func (f *delegateFlags) register(cmd *cobra.Command, cfg *node.Config) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.delegates, "delegate", nil, "hand workloads to another agent: NAME=ADDRESS, ADDRESS unix:///path or https://host:port (repeatable; after the local runtimes unless --runtimes names it)")
	fl.StringArrayVar(&f.platforms, "delegate-platform", nil, "platforms a delegate claims while it cannot be asked: NAME=linux/amd64[,...] (repeatable)")
	fl.StringVar(&cfg.DelegateTLS.CA, "delegate-ca", "", "CA certificate that signed the delegates' TLS certificates")
	fl.StringVar(&cfg.DelegateTLS.Cert, "delegate-cert", "", "client certificate to present to delegates")
	fl.StringVar(&cfg.DelegateTLS.Key, "delegate-key", "", "key of --delegate-cert")
	fl.StringVar(&cfg.DelegateTokenFile, "delegate-token-file", "", "file holding the bearer token delegates expect")
	fl.StringVar(&cfg.Listen.Address, "listen", "", "also serve the API on TCP, tcp://HOST:PORT (TLS, and a token or client certificates, required)")
	fl.StringVar(&cfg.Listen.Cert, "tls-cert", "", "TLS certificate of --listen")
	fl.StringVar(&cfg.Listen.Key, "tls-key", "", "key of --tls-cert")
	fl.StringVar(&cfg.Listen.ClientCA, "tls-client-ca", "", "require client certificates signed by this CA on --listen")
	fl.StringVar(&cfg.Listen.TokenFile, "token-file", "", "require this file's bearer token on --listen")
	fl.BoolVar(&cfg.Listen.Insecure, "insecure-listen", false, "allow --listen without TLS or authentication (loopback addresses only)")
}

// into parses --delegate and --delegate-platform into cfg.Delegates.
func (f *delegateFlags) into(cfg *node.Config) error {
	claims := map[string][]string{}
	for _, p := range f.platforms {
		name, list, ok := strings.Cut(p, "=")
		if !ok || name == "" || list == "" {
			return fmt.Errorf("--delegate-platform %q: want NAME=PLATFORM[,PLATFORM]", p)
		}
		claims[name] = append(claims[name], splitList(list)...)
	}
	seen := map[string]bool{}
	for _, d := range f.delegates {
		name, addr, ok := strings.Cut(d, "=")
		if !ok || name == "" || addr == "" {
			return fmt.Errorf("--delegate %q: want NAME=ADDRESS, such as wsl=unix:///run/wsl/switchyard.sock or peer=https://10.0.0.2:7443", d)
		}
		if seen[name] {
			return fmt.Errorf("--delegate %q: two delegates are named %s", d, name)
		}
		seen[name] = true
		plats, err := parsePlatforms("--delegate-platform "+name, claims[name])
		if err != nil {
			return err
		}
		cfg.Delegates = append(cfg.Delegates, node.Delegate{Name: name, Address: addr, Platforms: plats})
	}
	for name := range claims {
		if !seen[name] {
			return fmt.Errorf("--delegate-platform names %s, but no --delegate is named so", name)
		}
	}
	return nil
}

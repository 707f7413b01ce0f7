// Package remote is a runtime.Runtime that forwards every call to another
// switchyard agent over its API: a Linux delegate inside a VM or a WSL2
// distro, or a peer host. It lets a node offer platforms it cannot run
// itself; the composite routes to it like to any other runtime.
//
//	tlsCfg, err := client.TLSConfig(caFile, certFile, keyFile)
//	rt, err := remote.New("wsl", "https://10.0.0.2:7443",
//		remote.WithClientOptions(client.WithTLSConfig(tlsCfg), client.WithToken(token)),
//		remote.WithPlatforms(platforms.MustParse("linux/amd64")))
//	defer rt.Close()
//	comp, err := composite.New(runcRT, wasmRT, rt) // rt.Name() == "remote:wsl"
//
// # Platforms without blocking
//
// Platforms is called on the composite's create path, so it never touches
// the network: it returns the last list the delegate reported (GET
// /v1/info). New probes once with a short timeout (WithProbeTimeout); a
// background loop probes again every WithRefreshInterval, and at once when
// a call succeeds after the delegate had been unreachable. Until the
// delegate has answered once, Platforms returns the list given with
// WithPlatforms, so that a delegate that is down when the agent starts
// still claims its platforms: creates for them then fail with the
// delegate's error instead of silently landing on another runtime.
//
// # Errors
//
// The delegate's answers keep their kind across the wire (errors.Is with
// runtime.ErrNotFound, errors.As with *runtime.RouteToPeerError) and are
// prefixed with "delegate NAME". A delegate that cannot be reached, drops
// the connection or goes silent gives an error that matches
// runtime.ErrUnavailable and names the delegate and its address:
//
//	delegate wsl (https://10.0.0.2:7443) is unreachable: create web-rep-0: cannot reach ...
//
// A delegate that refuses this agent's credentials gives an error that
// matches both api.ErrUnauthenticated and runtime.ErrUnavailable: for this
// agent's own clients the delegate is unusable, not their credentials
// wrong. Only the failing delegate's calls fail; the connection is dialled
// again on the next call, so a delegate that comes back works again
// without restarting the agent.
package remote

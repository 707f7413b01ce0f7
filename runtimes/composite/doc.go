// Package composite routes containers across an ordered list of runtimes by
// platform: the first runtime is the primary, and each container goes to the
// first runtime that serves the platform its spec declares or, failing that,
// the platform its image was built for. When no runtime on this node serves
// it, Create answers with a *runtime.RouteToPeerError that names the
// remedies.
//
// The runtime chosen at Create is remembered in a dispatch record, so every
// later call goes to the same runtime without matching platforms again. The
// records are rebuilt from each runtime's List when the composite is made,
// so a restarted agent still reaches the containers it created before.
//
//	rt, err := composite.New(ctx, []runtime.Containers{runcRT, wasmRT, wslRT},
//		composite.WithInspector(inspector), composite.WithLogger(logger))
//	if err != nil {
//		return err
//	}
//	err = rt.Create(ctx, id, svc) // wasip1/wasm goes to wasmRT, linux to runcRT
//
// See docs of Create, Remove and Pull for the exact rules.
package composite

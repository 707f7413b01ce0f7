// Package host is the shared wasm host: one long-lived process per agent
// root that compiles each WebAssembly module once and instantiates it many
// times, so that a start costs an instantiation and an instance costs its
// linear memory.
//
// The host is the wasm counterpart of a container shim. It runs apart from
// the agent (the same binary re-executed, in its own session), so killing
// or upgrading the agent loses no module, no log line and no exit code. It
// records each instance's start and exit in the instance's state directory
// and its output in a log there, one JSON object a line, exactly as a
// container shim does (package statedir: the records are written
// atomically and fsynced), so a restarted agent finds everything again.
//
// The agent side talks to the host with Client over a unix socket in the
// root (JSON over HTTP):
//
//	c := host.NewClient(filepath.Join(root, host.SocketName))
//	if err := c.Prepare(ctx, host.Module{Path: p, Digest: d}); err != nil { ... }
//	st, err := c.Start(ctx, host.StartRequest{Key: key, StateDir: dir, ...})
//
// and the process itself is Serve, run by the hidden `switchyard wasm-host`
// command. A lock file in the root makes sure one root has one host.
//
// Compiled code is shared by every instance of the same module digest: the
// host keeps one CompiledModule per digest in memory, each in a
// wazero.Runtime of its own whose compilation cache is that module's
// directory under the root's cache, so that the code of a module whose image
// is gone can be dropped in memory and on disk (Reclaim). The per-instance memory
// limit is therefore not a RuntimeConfig.WithMemoryLimitPages (which is per
// wazero.Runtime and would split compiled modules by limit) but a memory
// allocator given to each instance: it refuses growth past the limit, which
// also lets the host say precisely that an instance failed for memory, and it
// publishes the instance's memory size without racing the instance.
package host

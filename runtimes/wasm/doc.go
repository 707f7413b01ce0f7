// Package wasm is the runtime for WebAssembly (WASI preview 1) modules. It
// implements runtime.Containers for the platform wasip1/wasm (the Docker+Wasm
// platform wasi/wasm is the same one) on top of wazero.
//
// Modules do not run in the agent: they run in the shared wasm host (package
// host), one long-lived process per root that the runtime starts on demand
// in its own session. The host compiles a module once per digest and
// instantiates it for every container of it, so a start costs an
// instantiation and an instance costs its linear memory; killing or
// upgrading the agent loses no module, no log line and no exit code. If the
// host itself dies, its instances are reported failed ("wasm host exited
// (pid N) while the module was running") and the next create starts a new
// host.
//
//	rt, err := wasm.New(root, wasm.StoreModules(store, root))
//	err = rt.Create(ctx, id, svc) // fetches and compiles the module
//	err = rt.Start(ctx, id)       // instantiates it
//	code, err := rt.Wait(ctx, id)
//
// A module runs _start with its argv (argv[0] is the module's name), its
// environment, the service's volumes preopened (read-only ones refuse
// writes), a private writable scratch directory as "/", its output in the
// container's log, host clocks and crypto/rand. The service's memory limit
// caps the module's linear memory. Exec is not supported: a module is a
// single process.
package wasm

// Package runc runs Linux containers through an OCI runtime binary (runc,
// or any runtime with runc's command line), each supervised by its own shim
// (package shim) that outlives the agent.
//
//	store, _ := images.Open(imagesRoot)
//	rt, err := runc.New(stateRoot, store)
//	if err != nil {
//		return err // no runc on this node, say
//	}
//	id := runtime.ContainerID{Service: "web"}
//	if err := rt.Create(ctx, id, svc); err != nil { ... }
//	if err := rt.Start(ctx, id); err != nil { ... }
//	code, err := rt.Wait(ctx, id)
//
// # Bundles
//
// Create builds an OCI runtime bundle from the image config and the service
// spec with Docker's semantics (a spec entrypoint replaces the image's and
// resets its cmd; spec args replace cmd; env merged, spec wins; the image's
// User resolved against the root filesystem's /etc/passwd and /etc/group)
// and Docker's default security profile: its capability set, its seccomp
// profile, masked and read-only /proc and /sys paths, no_new_privs, private
// PID, mount, IPC, UTS and network namespaces, and a pids limit. The root
// filesystem is an overlay of the image's snapshots (package images).
//
// # State
//
// Everything lives under the runtime's root, so a new Runtime over the same
// root takes over every container of an earlier one (after the agent was
// killed, say):
//
//	names/<id>                   symlink to the container's directory
//	containers/<key>/            key = id + random suffix, fixed for life
//	    container.json           what Create recorded (image, command, limits)
//	    bundle/config.json       the OCI spec; bundle/rootfs is the overlay
//	    shim.json                pid, start time and run generation of the shim
//	    start.json               when the current run was started
//	    exit.json                how the current run ended (written by the shim)
//	    log.json                 the log, one JSON object a line (package logfile)
//	    volumes/<name>           volumes without a source
//
// start.json, exit.json and log.json, the shim's ready report and every
// write of a record (atomic and fsynced) are package statedir's protocol,
// which the wasm host shares. Records of earlier versions (the shim's
// {gen, code, signal} exit, the runtime's started.json) are still read: a
// shim started before an upgrade writes them after it.
//
// The key, not the id, names the OCI container and its cgroup
// (/switchyard/<key>), so Rename only moves the name.
//
// # Supervision
//
// Each run of a container has one shim: Create (or Start of an exited
// container) gets it, it runs `runc create`, Start starts the container,
// and when the container's init ends the shim records the exit, deletes
// the container from runc (its state and cgroup; `runc delete` for another
// OCI runtime) and ends. An exited container therefore holds no process
// and no cgroup, only its mount and state, which Remove deletes.
//
// The shim command is, unless WithShim says otherwise, the small
// switchyard-shim binary beside the agent's (ShimBinary), else the agent's
// binary with "shim": every container keeps one resident. After its first
// create, the runtime keeps one shim started ahead (a standby, see
// shim.StandbyArg): the next create hands it its container over a socket
// instead of starting a process and waiting for its Go runtime (about 2 ms
// of every create), and the next standby starts meanwhile. Close ends it.
//
// The bundle and the container record are durable before Create returns,
// not before runc reads them: they are written atomically, and their
// fsyncs run while runc creates the container.
//
// Start does what `runc start` does without running it when the OCI runtime
// is runc: it opens the container's exec FIFO in runc's state directory,
// reads the byte its init writes just before exec'ing the workload, and
// removes the FIFO. That saves an exec of runc (about 30 ms) on every start;
// another OCI runtime, or a state directory without the FIFO, gets `runc
// start`.
//
// A container that runc does not know (a Start cut short during runc create
// or start) has ended as far as Remove is concerned: its shim is killed and
// the rest (cgroup, mount, state) removed as usual.
package runc

// Package statedir is the protocol between a supervisor and the agent over
// a workload's state directory, shared by the runc shim (one per container
// run) and the wasm host (one per agent root):
//
//   - the start record (StartFile) and the exit record (ExitFile) of the
//     current run, each numbered by the run it belongs to, the exit
//     carrying a runtime.WaitOutcome;
//   - atomic and durable writes (WriteJSON: a temporary file in the same
//     directory, fsynced, renamed over the record, then the directory
//     fsynced), so that a reader sees the old record or the new one, and a
//     record that was written survives a crash of the machine (the exit);
//     and atomic writes without the fsyncs (WriteJSONAtomic) for records
//     that such a crash makes moot (the start of a run, a supervisor's
//     process id), whose readers take a torn record for none;
//   - the shim's ready report on its ready descriptor (WriteReady,
//     ReadReady): one JSON line {ok, kind, message}, kind naming one of
//     package runtime's error kinds;
//   - ClassifyRunc and RuncMessage, which turn what runc says into an error
//     kind and a message, for the shim and the runtime alike.
//
// A supervisor records a run's end:
//
//	exit := statedir.Exit{Run: run, SupervisorPID: os.Getpid(), Outcome: outcome}
//	if err := statedir.WriteExit(dir, exit); err != nil { ... }
//
// and the agent, in another process and perhaps after a restart, reads it:
//
//	exit, ok, err := statedir.ReadExit(dir)
//	if err == nil && ok && exit.Run == current { ... } // the run has ended
//
// The readers also understand the records of earlier versions (the runc
// shim's {gen, code, signal, oom_killed, error} exit record and the runc
// runtime's started.json), because a shim or a wasm host outlives the
// agent: after an upgrade, the old supervisor still writes its old format.
//
// The package imports package runtime and the standard library only: the
// shim, which is resident once per container, links it.
package statedir

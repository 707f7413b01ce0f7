// Package logfile reads and writes a container's log file: one JSON object
// a line in the shape of runtime.LogEntry (time in RFC 3339 with
// nanoseconds, stream, text, and partial for a line that did not end with a
// newline). Every runtime that supervises workloads (the runc shim, the wasm
// host) writes with it, and the runtimes read with it, so all logs share one
// format.
//
// A supervisor opens the file once and hands one writer to each stream:
//
//	f, err := logfile.Open(filepath.Join(dir, "log.json"))
//	if err != nil {
//		return err
//	}
//	defer f.Close()
//	stdout := f.Writer(runtime.Stdout)
//	defer stdout.Close() // flushes a trailing partial line
//	io.Copy(stdout, pipe)
//
// A reader asks for the last lines, or follows the file as it grows:
//
//	entries, err := logfile.Tail(path, 100)
//	s := logfile.Follow(ctx, path, runtime.TailAll, exited)
//	for e, err := s.Recv(); err == nil; e, err = s.Recv() { ... }
package logfile

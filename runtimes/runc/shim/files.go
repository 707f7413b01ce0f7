package shim

// File names in a container's state directory that the shim writes besides
// those of package statedir (statedir.ExitFile, statedir.LogFile).
const (
	// InitPIDFile is runc's --pid-file: the container init's host pid.
	InitPIDFile = "init.pid"
	// RuncLogFile is runc's --log, in JSON lines.
	RuncLogFile = "runc.log"
	// TTYFile, written by the runtime, says the container has a terminal:
	// the shim hands runc a console socket and logs what the terminal
	// prints, as stdout.
	TTYFile = "tty"
)

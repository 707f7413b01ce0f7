package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// Signal is a Linux signal number. Workloads are Linux processes (or wasm
// modules that honour a subset), so the table is Linux's on every host.
type Signal int

// The signals a Kill most often sends.
const (
	SIGHUP  Signal = 1
	SIGINT  Signal = 2
	SIGQUIT Signal = 3
	SIGKILL Signal = 9
	SIGUSR1 Signal = 10
	SIGUSR2 Signal = 12
	SIGTERM Signal = 15
)

// signalNames is indexed by signal number; realtime signals are computed.
var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
	18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
	23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
	28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

const (
	sigRTMin = 34
	sigRTMax = 64
)

// Valid reports whether s is a signal Linux knows (1-31, 34-64).
func (s Signal) Valid() bool {
	return s >= 1 && s <= 31 || s >= sigRTMin && s <= sigRTMax
}

// String returns the signal's name: SIGKILL, SIGRTMIN+3, or "signal N" for
// numbers Linux does not know.
func (s Signal) String() string {
	switch {
	case s >= 1 && s <= 31:
		return signalNames[s]
	case s == sigRTMin:
		return "SIGRTMIN"
	case s > sigRTMin && s <= sigRTMax:
		return "SIGRTMIN+" + strconv.Itoa(int(s-sigRTMin))
	}
	return "signal " + strconv.Itoa(int(s))
}

// ParseSignal parses a signal as docker kill -s does: a name with or without
// the SIG prefix, in any case (KILL, sigterm, SIGRTMIN+2), or a number
// (9). The empty string means SIGKILL. The error wraps ErrInvalidArgument.
func ParseSignal(s string) (Signal, error) {
	if s == "" {
		return SIGKILL, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if sig := Signal(n); sig.Valid() {
			return sig, nil
		}
		return 0, fmt.Errorf("signal %q: no such signal number (want 1-31 or 34-64): %w", s, ErrInvalidArgument)
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for n, known := range signalNames {
		if known != "" && known == name {
			return Signal(n), nil
		}
	}
	if name == "SIGIOT" {
		return 6, nil
	}
	if name == "SIGPOLL" {
		return 29, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		off := 0
		if rest != "" {
			v, ok := rtOffset(rest, '+')
			if !ok {
				return 0, fmt.Errorf("signal %q: want SIGRTMIN+N: %w", s, ErrInvalidArgument)
			}
			off = v
		}
		if sig := Signal(sigRTMin + off); off <= sigRTMax-sigRTMin {
			return sig, nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		off := 0
		if rest != "" {
			v, ok := rtOffset(rest, '-')
			if !ok {
				return 0, fmt.Errorf("signal %q: want SIGRTMAX-N: %w", s, ErrInvalidArgument)
			}
			off = v
		}
		if sig := Signal(sigRTMax - off); off <= sigRTMax-sigRTMin {
			return sig, nil
		}
	}
	return 0, fmt.Errorf("signal %q: unknown signal (try TERM, KILL, HUP, INT or a number): %w", s, ErrInvalidArgument)
}

// rtOffset parses the "+N" or "-N" after SIGRTMIN or SIGRTMAX: the sign,
// then only decimal digits. Large values are capped rather than allowed to
// overflow, since every caller rejects offsets above sigRTMax-sigRTMin.
func rtOffset(rest string, sign byte) (int, bool) {
	if len(rest) < 2 || rest[0] != sign {
		return 0, false
	}
	n := 0
	for i := 1; i < len(rest); i++ {
		c := rest[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), 1000)
	}
	return n, true
}

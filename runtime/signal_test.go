package runtime

import (
	"errors"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Signal
	}{
		{"", SIGKILL},
		{"KILL", SIGKILL},
		{"SIGKILL", SIGKILL},
		{"sigterm", SIGTERM},
		{"term", SIGTERM},
		{"Hup", SIGHUP},
		{"SigUsr1", SIGUSR1},
		{"9", SIGKILL},
		{"15", SIGTERM},
		{"31", 31},
		{"IOT", 6},
		{"SIGPOLL", 29},
		{"RTMIN", 34},
		{"SIGRTMIN+3", 37},
		{"sigrtmin+30", 64},
		{"RTMAX", 64},
		{"SIGRTMAX-2", 62},
		{"RTMAX-30", 34},
		{"34", 34},
		{"64", 64},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSignal(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseSignal(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseSignalInvalid(t *testing.T) {
	for _, in := range []string{
		"0", "32", "33", "65", "-1", "99", "NOPE", "SIG", "SIGKIL", "KILL9",
		"RTMIN+31", "RTMIN-1", "RTMIN+", "RTMIN+x", "RTMIN3",
		"RTMAX+1", "RTMAX-31", "RTMAX-", "RTMAX1",
		"RTMIN+9223372036854775807", "RTMIN+9223372036854775806", "RTMAX-9223372036854775807",
		"RTMIN++1", "RTMAX--1", "RTMAX-+1",
		" 9", "9 ",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseSignal(in)
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParseSignal(%q) = %v, %v; want an error matching ErrInvalidArgument", in, int(got), err)
			}
		})
	}
}

func TestSignalString(t *testing.T) {
	for _, tc := range []struct {
		sig  Signal
		want string
	}{
		{SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {1, "SIGHUP"}, {31, "SIGSYS"},
		{34, "SIGRTMIN"}, {35, "SIGRTMIN+1"}, {64, "SIGRTMIN+30"},
		{0, "signal 0"}, {32, "signal 32"}, {65, "signal 65"}, {-3, "signal -3"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.sig.String(); got != tc.want {
				t.Fatalf("Signal(%d).String() = %q, want %q", int(tc.sig), got, tc.want)
			}
		})
	}
}

// TestSignalNamesRoundTrip checks that every valid signal's name parses
// back to it.
func TestSignalNamesRoundTrip(t *testing.T) {
	for n := Signal(-2); n <= 70; n++ {
		if n.Valid() != (n >= 1 && n <= 31 || n >= 34 && n <= 64) {
			t.Fatalf("Signal(%d).Valid() = %v", int(n), n.Valid())
		}
		if !n.Valid() {
			continue
		}
		got, err := ParseSignal(n.String())
		if err != nil || got != n {
			t.Fatalf("ParseSignal(%q) = %v, %v; want %d", n.String(), got, err, int(n))
		}
	}
}

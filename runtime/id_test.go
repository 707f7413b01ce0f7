package runtime

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestContainerIDString(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   ContainerID
		want string
	}{
		{"simple", ContainerID{"web", 0}, "web-rep-0"},
		{"dashes in service", ContainerID{"my-web-app", 3}, "my-web-app-rep-3"},
		{"rep inside service", ContainerID{"a-rep-1", 2}, "a-rep-1-rep-2"},
		{"largest replica", ContainerID{"w", math.MaxUint32}, "w-rep-4294967295"},
		{"dots and underscores", ContainerID{"api_v2.internal", 10}, "api_v2.internal-rep-10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			back, err := ParseContainerID(tc.want)
			if err != nil || back != tc.id {
				t.Fatalf("ParseContainerID(%q) = %+v, %v; want %+v", tc.want, back, err, tc.id)
			}
		})
	}
}

func TestParseContainerID(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    ContainerID
		wantErr bool
	}{
		{"plain", "web-rep-0", ContainerID{"web", 0}, false},
		{"service with dashes", "a-b-c-rep-12", ContainerID{"a-b-c", 12}, false},
		{"service ending in -rep", "x-rep-rep-3", ContainerID{"x-rep", 3}, false},
		{"service containing -rep-", "svc-rep-7-rep-1", ContainerID{"svc-rep-7", 1}, false},
		{"replica limit", "w-rep-4294967295", ContainerID{"w", math.MaxUint32}, false},
		{"replica above limit", "w-rep-4294967296", ContainerID{}, true},
		{"leading zero", "w-rep-01", ContainerID{}, true},
		{"double zero", "w-rep-00", ContainerID{}, true},
		{"plus sign", "w-rep-+1", ContainerID{}, true},
		{"minus sign", "w-rep--1", ContainerID{}, true},
		{"no replica", "w-rep-", ContainerID{}, true},
		{"no separator", "web", ContainerID{}, true},
		{"empty", "", ContainerID{}, true},
		{"empty service", "-rep-0", ContainerID{}, true},
		{"service starting with dash", "--rep-0", ContainerID{}, true},
		{"bad character", "we/b-rep-0", ContainerID{}, true},
		{"space in replica", "w-rep- 1", ContainerID{}, true},
		{"hex replica", "w-rep-0x1", ContainerID{}, true},
		{"underscore replica", "w-rep-1_0", ContainerID{}, true},
		{"service too long", strings.Repeat("a", 129) + "-rep-0", ContainerID{}, true},
		{"service at length limit", strings.Repeat("a", 128) + "-rep-0", ContainerID{strings.Repeat("a", 128), 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseContainerID(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("ParseContainerID(%q) = %+v, %v; want an error matching ErrInvalidArgument", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseContainerID(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Fatalf("round trip: %q → %+v → %q", tc.in, got, got.String())
			}
		})
	}
}

func TestValidateServiceName(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"letters", "web", true},
		{"leading digit", "1web", true},
		{"all allowed", "a-b_c.d9", true},
		{"empty", "", false},
		{"leading dot", ".web", false},
		{"leading underscore", "_web", false},
		{"slash", "a/b", false},
		{"colon", "a:b", false},
		{"unicode", "wéb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateServiceName(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateServiceName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("error %v does not match ErrInvalidArgument", err)
			}
		})
	}
}

// FuzzParseContainerID checks that the parser and String are exact
// inverses: whatever parses prints back as the input, and every valid id
// parses back to itself.
func FuzzParseContainerID(f *testing.F) {
	for _, s := range []string{"web-rep-0", "a-rep-1-rep-2", "x-rep-rep-3", "w-rep-4294967295", "w-rep-01", "w-rep-+1", "-rep-0", "", "w-rep-"} {
		f.Add(s, "svc", uint32(0))
	}
	f.Add("a-rep-1", "a-rep-1", uint32(math.MaxUint32))
	f.Fuzz(func(t *testing.T, s, service string, replica uint32) {
		id, err := ParseContainerID(s)
		if err == nil {
			if id.String() != s {
				t.Fatalf("ParseContainerID(%q) = %+v, which prints as %q", s, id, id.String())
			}
			if verr := id.Validate(); verr != nil {
				t.Fatalf("ParseContainerID(%q) returned an invalid id: %v", s, verr)
			}
		} else if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("ParseContainerID(%q): error %v does not match ErrInvalidArgument", s, err)
		}
		v := ContainerID{Service: service, Replica: replica}
		if v.Validate() != nil {
			return
		}
		back, err := ParseContainerID(v.String())
		if err != nil || back != v {
			t.Fatalf("ParseContainerID(%q) = %+v, %v; want %+v", v.String(), back, err, v)
		}
	})
}

// A name with a character outside the rule names that character, not the
// bytes of its encoding.
func TestCheckNameSaysTheCharacter(t *testing.T) {
	msg := CheckName("café", "service name")
	if !strings.Contains(msg, "'é'") {
		t.Errorf("CheckName(café) = %q, want it to name 'é'", msg)
	}
}

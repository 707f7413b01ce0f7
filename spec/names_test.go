package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

// nameCases exercise every branch of the service name rule.
var nameCases = []string{
	"", "web", "Web", "9lives", "a-b_c.d", "-web", "_web", ".web", "web-", "we b", "we/b", "wé", "a\x00",
	strings.Repeat("a", 128), strings.Repeat("a", 129), "web-rep-0",
}

// TestServiceNameRuleAgreesWithRuntime checks that the spec's service name
// check and the contract's agree (both are runtime.CheckName underneath).
func TestServiceNameRuleAgreesWithRuntime(t *testing.T) {
	for _, name := range nameCases {
		t.Run(name, func(t *testing.T) { checkNameAgreement(t, name) })
	}
}

func FuzzServiceNameRule(f *testing.F) {
	for _, name := range nameCases {
		f.Add(name)
	}
	f.Fuzz(checkNameAgreement)
}

func checkNameAgreement(t *testing.T, name string) {
	specErr := spec.ValidateServiceName(name)
	rtErr := runtime.ValidateServiceName(name)
	if (specErr == nil) != (rtErr == nil) {
		t.Fatalf("name %q: spec says %v, runtime says %v", name, specErr, rtErr)
	}
	if specErr != nil && !errors.Is(specErr, spec.ErrInvalid) {
		t.Errorf("spec error does not wrap ErrInvalid: %v", specErr)
	}
	// The messages are the same too, apart from the sentinel's suffix.
	if specErr != nil {
		s := strings.TrimSuffix(specErr.Error(), ": "+spec.ErrInvalid.Error())
		r := strings.TrimSuffix(rtErr.Error(), ": "+runtime.ErrInvalidArgument.Error())
		if s != r {
			t.Errorf("name %q: spec says %q, runtime says %q", name, s, r)
		}
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// FuzzDecodeServiceSpec checks that any body either decodes or fails with
// ErrInvalidArgument (never a panic or another kind), and that what decodes
// survives an encode/decode round trip unchanged. Seeds: f.Add below and
// testdata/fuzz/FuzzDecodeServiceSpec.
func FuzzDecodeServiceSpec(f *testing.F) {
	full, err := json.Marshal(api.FromServiceSpec(fullSpec()))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(full),
		`{"name":"web","image":{"name":"busybox"}}`,
		`{"name":"w","rtype":"job","platform":{"os":"wasip1","architecture":"wasm"},"env":{"A":"B"}}`,
		`{"endpoints":[{"name":"h","port":65535}],"scale":{"replicas":4294967295}}`,
		`{"command":{"entrypoint":[],"args":[""]},"volumes":[]}`,
		`null`, `{}`, `[]`, `{"name":"\u0000"}`, `{"resources":{"cpu":1e308}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		svc, err := api.DecodeServiceSpec(bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("error %v does not match ErrInvalidArgument", err)
			}
			return
		}
		b, err := json.Marshal(api.FromServiceSpec(svc))
		if err != nil {
			t.Fatalf("encoding a decoded spec: %v", err)
		}
		again, err := api.DecodeServiceSpec(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(svc, again) {
			t.Fatalf("round trip changed the spec:\n%+v\n%+v", svc, again)
		}
	})
}

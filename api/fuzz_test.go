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

// FuzzDecodeCreateSpec checks that any create body either decodes to a
// valid request or fails with ErrInvalidArgument, and that what decodes
// survives an encode/decode round trip unchanged.
func FuzzDecodeCreateSpec(f *testing.F) {
	for _, seed := range []string{
		`{"image":"busybox"}`,
		`{"image":"x","platform":{"os":"wasip1","architecture":"wasm"},"env":["A=B"],"labels":{"k":"v"}}`,
		`{"image":"x","entrypoint":[],"args":[""],"volumes":[{"name":"d","path":"/d","read_only":true}]}`,
		`{"image":"x","resources":{"cpu":1e308,"memory_bytes":-1}}`,
		`null`, `{}`, `[]`, `{"image":"\u0000"}`, `{"image":"x","env":["=x"]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := api.DecodeCreateSpec(bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("error %v does not match ErrInvalidArgument", err)
			}
			return
		}
		if err := cs.Validate(); err != nil {
			t.Fatalf("a decoded request does not validate: %v", err)
		}
		again, err := json.Marshal(cs)
		if err != nil {
			t.Fatal(err)
		}
		back, err := api.DecodeCreateSpec(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if !reflect.DeepEqual(cs, back) {
			t.Fatalf("round trip changed the request:\n%+v\n%+v", cs, back)
		}
	})
}

package server

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// FuzzDecodeDeployment feeds arbitrary bodies to the POST /v1/deployments
// decoder: it must never panic, every error must be of a kind, and what it
// accepts must survive the JSON round trip unchanged in its service order.
func FuzzDecodeDeployment(f *testing.F) {
	f.Add("application/yaml", []byte("version: v1\ndeployment: shop\nservices:\n  web:\n    image: {name: busybox}\n    scale: {replicas: 2}\n"))
	f.Add("application/json", []byte(`{"version":"v1","deployment":"shop","services":[{"name":"web","image":{"name":"busybox"},"scale":{"replicas":2}}]}`))
	f.Add("application/json", []byte(`{"version":"v1","deployment":"s","services":[{"name":"w","rtype":"job","image":{"name":"x","pull_policy":"always"},"platform":{"os":"wasip1","architecture":"wasm"},"env":{"A":"1"}}]}`))
	f.Add("application/json", []byte(`{"deployment":"shop","services":null}`))
	f.Add("text/yaml", []byte("version: v1\ndeployment: a\nservices: {}\n"))
	f.Add("", []byte(`[]`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/deployments", bytes.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		d, err := decodeDeployment(r)
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) && !errors.Is(err, runtime.ErrNotSupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		back, err := api.FromDeployment(d).Spec()
		if err != nil {
			t.Fatalf("an accepted deployment does not survive the JSON round trip: %v", err)
		}
		if len(back.ServiceNames) != len(d.Services) {
			t.Fatalf("round trip kept %d of %d services", len(back.ServiceNames), len(d.Services))
		}
	})
}

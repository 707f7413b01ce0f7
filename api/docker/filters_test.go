package docker

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

func filtersOf(t testing.TB, v string) (filters, error) {
	t.Helper()
	return parseFilters(httptest.NewRequest("GET", "/containers/json?filters="+url.QueryEscape(v), nil))
}

// docker's rule, which compose relies on to number its containers: every
// label must match, any one value of another key will do.
func TestFiltersMatchAsDockerd(t *testing.T) {
	c := runtime.Container{ID: runtime.ContainerID{Service: "swyc_web_1"}, Image: "busybox:latest",
		Labels: map[string]string{"com.docker.compose.project": "swyc", "com.docker.compose.service": "web"},
		State:  runtime.State{Status: runtime.StatusRunning}}
	for _, tc := range []struct {
		filters string
		want    bool
	}{
		{`{"label":["com.docker.compose.project=swyc","com.docker.compose.service=web"]}`, true},
		{`{"label":["com.docker.compose.project=swyc","com.docker.compose.service=client"]}`, false},
		{`{"label":["com.docker.compose.project"]}`, true},
		{`{"status":["exited","running"]}`, true},
		{`{"status":["exited"]}`, false},
		{`{"status":{"running":true}}`, true},
		{`{"name":["web"],"ancestor":["busybox"]}`, true},
		{`{"name":["db"],"ancestor":["busybox"]}`, false},
	} {
		f, err := filtersOf(t, tc.filters)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.matchContainer(c); err != nil || got != tc.want {
			t.Errorf("%s: match = %v, %v; want %v", tc.filters, got, err, tc.want)
		}
	}
	f, _ := filtersOf(t, `{"colour":["red"]}`)
	if _, err := f.matchContainer(c); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("an unknown filter: %v; want invalid argument", err)
	}
	if _, err := filtersOf(t, `["label"]`); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("filters that are not an object: %v; want invalid argument", err)
	}
}

func TestEventTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.500000000", time.Unix(1700000000, 500000000)},
		{"2026-12-01T21:48:09Z", time.Date(2026, 12, 1, 21, 48, 9, 0, time.UTC)},
	} {
		if got, err := eventTime(tc.in, "since"); err != nil || !got.Equal(tc.want) {
			t.Errorf("eventTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"yesterday", "NaN", "Inf", "1e400"} {
		if _, err := eventTime(bad, "since"); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("eventTime(%q): %v; want invalid argument", bad, err)
		}
	}
}

// FuzzFilters feeds clients' filters parameter to every matcher: an
// answer or an error, never a panic.
func FuzzFilters(f *testing.F) {
	for _, s := range []string{`{"label":["a=b","c"]}`, `{"status":{"running":true}}`, `{"type":["network"],"event":["create"]}`, `{"dangling":["true"]}`, `{}`, `null`, `{"label":[null]}`} {
		f.Add(s)
	}
	c := runtime.Container{Labels: map[string]string{"a": "b"}}
	n := modeNetwork("host", "host")
	v := api.NamedVolume{Name: "data"}
	m := dockerEvent(api.Event{Type: api.EventNetwork, Action: "create", ID: "appnet"})
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := filtersOf(t, s)
		if err != nil {
			return
		}
		_, _ = fl.matchContainer(c)
		_, _ = fl.matchNetwork(n)
		_, _ = fl.matchVolume(v)
		_, _ = fl.matchEvent(m)
		_, _ = eventTime(s, "since")
	})
}

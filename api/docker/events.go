package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// Events is the node's record of what happens: the agent. The front door
// reads it for /events and records there what only it sees (networks and
// volumes made and removed).
type Events interface {
	// Events returns the events recorded at or after since (none when
	// since is zero), then those that follow on the channel until ctx
	// ends.
	Events(ctx context.Context, since time.Time) ([]api.Event, <-chan api.Event)
	// Publish records an event.
	Publish(e api.Event)
}

// WithEvents serves /events from ev and records the front door's own
// events there. Without it /events answers 501.
func WithEvents(ev Events) Option {
	return func(o *options) error {
		if ev == nil {
			return fmt.Errorf("docker API: events are nil: %w", runtime.ErrInvalidArgument)
		}
		o.events = ev
		return nil
	}
}

const (
	eventNetwork = api.EventNetwork
	eventVolume  = api.EventVolume
)

// emit records an event about a network or a volume, named by id.
func (s *Server) emit(kind, action, id string, attrs map[string]string) {
	if s.opts.events != nil {
		s.opts.events.Publish(api.Event{Time: time.Now(), Type: kind, Action: action, ID: id, Attributes: attrs})
	}
}

// message is an event as dockerd 20.10 sends it: the current fields, and
// the status, id and from that older clients (docker-py, compose 1.x)
// still read for containers and images.
type message struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

// dockerEvent is e as docker clients know it.
func dockerEvent(e api.Event) message {
	m := message{Message: events.Message{Type: events.Type(e.Type), Action: events.Action(e.Action), Scope: "local",
		Time: e.Time.Unix(), TimeNano: e.Time.UnixNano()}}
	attrs := map[string]string{}
	switch {
	case e.Container != nil:
		c := *e.Container
		for k, v := range userLabels(c.Labels) {
			attrs[k] = v
		}
		attrs["image"], attrs["name"] = c.Image, dockerName(c)
		m.Actor.ID = dockerID(c)
		m.Status, m.ID, m.From = e.Action, m.Actor.ID, c.Image
	case e.Type == api.EventImage:
		m.Actor.ID = e.ID
		attrs["name"] = e.ID
		m.Status, m.ID = e.Action, e.ID
	default:
		m.Actor.ID = e.ID
		if e.Type == api.EventNetwork {
			m.Actor.ID = networkID(e.ID)
		}
		attrs["name"] = e.ID
	}
	for k, v := range e.Attributes {
		attrs[k] = v
	}
	if old, ok := attrs["oldName"]; ok && e.Container != nil && e.Container.Labels[LabelID] != "" {
		attrs["oldName"] = strings.TrimSuffix(old, "-rep-0")
	}
	m.Actor.Attributes = attrs
	return m
}

// matchEvent reports whether m passes every filter; an unknown filter is
// an error, as dockerd's.
func (f filters) matchEvent(m message) (bool, error) {
	return f.match("type, event, container, image, network, volume, label or scope", func(key, v string) (bool, bool) {
		a := m.Actor.Attributes
		switch key {
		case "type":
			return string(m.Type) == v, true
		case "event":
			return string(m.Action) == v, true
		case "container":
			return m.Type == events.ContainerEventType && (strings.HasPrefix(m.Actor.ID, v) || a["name"] == strings.TrimPrefix(v, "/")), true
		case "image":
			return a["image"] == v || m.Type == events.ImageEventType && m.Actor.ID == v, true
		case "network":
			return m.Type == events.NetworkEventType && (m.Actor.ID == v || a["name"] == v), true
		case "volume":
			return m.Type == events.VolumeEventType && m.Actor.ID == v, true
		case "label":
			return hasLabel(a, v), true
		case "scope":
			return v == "local", true
		}
		return false, false
	})
}

// eventTime parses docker's since and until: unix seconds with an optional
// fraction (what the CLI sends for "10m" or a date), or RFC 3339.
func eventTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s=%q: want unix seconds (1700000000.5) or an RFC 3339 time: %w", name, v, runtime.ErrInvalidArgument)
}

func (s *Server) eventRoutes() {
	s.handle("GET /events", func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.events == nil {
			return fmt.Errorf("GET /events: this node keeps no events: %w", runtime.ErrNotSupported)
		}
		q := r.URL.Query()
		since, err := eventTime(q.Get("since"), "since")
		if err != nil {
			return err
		}
		until, err := eventTime(q.Get("until"), "until")
		if err != nil {
			return err
		}
		f, err := parseFilters(r)
		if err != nil {
			return err
		}
		if _, err := f.matchEvent(message{}); err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		if !until.IsZero() {
			var stop context.CancelFunc
			ctx, stop = context.WithDeadline(ctx, until)
			defer stop()
		}
		past, live := s.opts.events.Events(ctx, since)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		flusher, _ := w.(http.Flusher)
		if flusher != nil {
			flusher.Flush()
		}
		enc := json.NewEncoder(w)
		send := func(e api.Event) bool {
			if !until.IsZero() && e.Time.After(until) {
				return true
			}
			m := dockerEvent(e)
			if ok, _ := f.matchEvent(m); !ok {
				return true
			}
			if enc.Encode(m) != nil {
				return false // the client went
			}
			if flusher != nil {
				flusher.Flush()
			}
			return true
		}
		for _, e := range past {
			if !send(e) {
				return nil
			}
		}
		for e := range live {
			if !send(e) {
				return nil
			}
		}
		return nil
	})
}

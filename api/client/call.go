package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
)

// call describes one request.
type call struct {
	op     string // what the caller asked, for messages: "state"
	object string // what it was asked about, for messages: "web-rep-0"; may be empty
	method string
	path   string
	query  url.Values
	body   any // JSON-encoded when not nil
	// raw, when set, is sent as the body as it is, with contentType.
	raw         io.Reader
	contentType string
	// long marks calls that may rightly take long: no deadline, but the
	// connection must not stay silent longer than the idle timeout.
	long bool
	// unbounded marks calls whose answer comes only when the work is done
	// and that send nothing meanwhile (an up that pulls, a load): only the
	// caller's context bounds them.
	unbounded bool
}

// what names the call in messages: "state web-rep-0".
func (cl call) what() string {
	if cl.object == "" {
		return cl.op
	}
	return cl.op + " " + cl.object
}

// watchdogChecks is how many times per idle timeout the watchdog looks for
// silence. A stall of this process (a loaded or suspended host) delays the
// watchdog and the reader alike; counting checks rather than measuring one
// interval makes such a stall cost one check, so the client does not blame
// the daemon for its own stall and drop frames that are already waiting in
// the socket.
const watchdogChecks = 4

// exchange is one request in flight: its cancellation and its watchdog.
type exchange struct {
	cancel context.CancelCauseFunc
	cause  func() error // the request context's cause once it is done, else nil
	idle   time.Duration
	timer  *time.Timer // nil for quick calls, which have a deadline instead
	// silent counts the watchdog's checks since the daemon last spoke.
	silent atomic.Int32
}

// touch tells the watchdog the daemon just spoke.
func (x *exchange) touch() { x.silent.Store(0) }

// watch starts the watchdog: after more than watchdogChecks checks without
// a frame (an idle timeout to 1.25 of it), onSilence runs.
func (x *exchange) watch(onSilence func()) {
	period := x.idle / watchdogChecks
	// Armed far in the future first, so that the callback cannot run before
	// x.timer is set.
	x.timer = time.AfterFunc(time.Hour, func() {
		if x.silent.Add(1) <= watchdogChecks {
			x.timer.Reset(period)
			return
		}
		onSilence()
	})
	x.timer.Reset(period)
}

// end releases the exchange; the response body is unusable afterwards.
func (x *exchange) end(cause error) {
	if x.timer != nil {
		x.timer.Stop()
	}
	x.cancel(cause)
}

// errDone ends an exchange whose response was read completely.
var errDone = errors.New("call finished")

// send sends the request and returns the successful response, or the error
// (transport errors and error responses alike). The caller must end the
// exchange.
func (c *Client) send(ctx context.Context, cl call) (*http.Response, *exchange, error) {
	var rctx context.Context
	x := &exchange{idle: c.opts.idleTimeout}
	switch {
	case cl.unbounded:
		rctx, x.cancel = context.WithCancelCause(ctx)
	case cl.long:
		rctx, x.cancel = context.WithCancelCause(ctx)
		x.watch(func() {
			x.cancel(c.connErr(cl.what(), fmt.Sprintf("the switchyard daemon at %s sent nothing for %v", c.addr, x.idle), context.DeadlineExceeded))
		})
	default:
		var cancel context.CancelFunc
		// c.timeoutErr is made once in New: a quick call allocates no error
		// unless it fails.
		rctx, cancel = context.WithTimeoutCause(ctx, c.opts.timeout, c.timeoutErr)
		x.cancel = func(error) { cancel() }
	}
	x.cause = func() error {
		if rctx.Err() == nil {
			return nil
		}
		return context.Cause(rctx)
	}

	body, contentType := cl.raw, cl.contentType
	if cl.body != nil {
		contentType = "application/json"
		b, err := json.Marshal(cl.body)
		if err != nil {
			x.end(errDone)
			return nil, nil, fmt.Errorf("%s: encoding the request: %w", cl.what(), err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	req, err := http.NewRequestWithContext(rctx, cl.method, u, body)
	if err != nil {
		x.end(errDone)
		return nil, nil, fmt.Errorf("%s: %w", cl.what(), err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.opts.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = c.transportErr(cl.what(), x, err)
		x.end(errDone)
		return nil, nil, err
	}
	x.touch()
	if resp.StatusCode >= http.StatusMultipleChoices {
		err := c.errorResponse(cl.what(), x, resp)
		resp.Body.Close()
		x.end(errDone)
		return nil, nil, err
	}
	return resp, x, nil
}

// errorResponse reads an error response into the error it stands for.
func (c *Client) errorResponse(op string, x *exchange, resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return c.transportErr(op, x, err)
	}
	var body api.ErrorBody
	var remote error
	if json.Unmarshal(b, &body) != nil || body.Error.Kind == "" {
		remote = api.FromHTTP(resp.StatusCode, nil)
	} else {
		remote = api.FromHTTP(resp.StatusCode, &body.Error)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// Say which daemon refused and what to check; the daemon's own
		// message follows.
		return c.authErr(op, remote)
	}
	return remote
}

// do runs a call and decodes its answer into out (nil to discard it).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	resp, x, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	defer x.end(errDone)
	defer resp.Body.Close()
	if isNDJSON(resp) {
		// A long call that outlasted a heartbeat: heartbeats, then one frame.
		fr := frameReader{c: c, op: cl.what(), x: x, dec: json.NewDecoder(resp.Body)}
		for {
			var f api.Frame[json.RawMessage]
			if err := fr.next(&f); err != nil {
				return err
			}
			switch {
			case f.Error != nil:
				return api.FromHTTP(resp.StatusCode, f.Error)
			case f.Data != nil:
				return decodeAnswer(cl.what(), bytes.NewReader(*f.Data), out)
			case f.EOF:
				return c.connErr(cl.what(), "the daemon ended the answer without a result", io.ErrUnexpectedEOF)
			}
		}
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		if err != nil {
			return c.transportErr(cl.what(), x, err)
		}
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if cause := x.cause(); cause != nil || !isJSONError(err) {
			return c.transportErr(cl.what(), x, err)
		}
		return fmt.Errorf("%s: the daemon's answer is not the JSON this client expects (is it a different version?): %w", cl.what(), err)
	}
	return nil
}

func decodeAnswer(op string, r io.Reader, out any) error {
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return fmt.Errorf("%s: the daemon's answer is not the JSON this client expects (is it a different version?): %w", op, err)
	}
	return nil
}

func isNDJSON(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == api.ContentTypeNDJSON
}

func isJSONError(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}

// frameReader reads NDJSON frames and feeds the exchange's watchdog.
type frameReader struct {
	c   *Client
	op  string
	x   *exchange
	dec *json.Decoder
}

// next decodes the next frame into f. Its error is the reason the stream
// cannot go on: the caller's ctx, a watchdog or Close, or a dropped
// connection.
func (fr *frameReader) next(f any) error {
	if err := fr.dec.Decode(f); err != nil {
		if cause := fr.x.cause(); cause == nil && isJSONError(err) {
			return fmt.Errorf("%s: the daemon sent a frame this client cannot read (is it a different version?): %w", fr.op, err)
		}
		return fr.c.transportErr(fr.op, fr.x, err)
	}
	fr.x.touch()
	return nil
}

// dialError marks a failure to connect, as opposed to one after connecting.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// connError is a failure to talk to the daemon: it could not be reached,
// the connection dropped, or it went silent. It matches
// runtime.ErrUnavailable and unwraps to its cause as well.
type connError struct {
	msg   string
	cause error
}

func (e *connError) Error() string   { return e.msg + ": " + e.cause.Error() }
func (e *connError) Unwrap() []error { return []error{runtime.ErrUnavailable, e.cause} }

func (c *Client) connErr(op, msg string, cause error) error {
	if op != "" {
		msg = op + ": " + msg
	}
	return &connError{msg: msg, cause: cause}
}

// transportErr classifies an error from sending a request or reading its
// answer.
func (c *Client) transportErr(op string, x *exchange, err error) error {
	if cause := x.cause(); cause != nil && cause != errDone {
		if cause == c.timeoutErr {
			return fmt.Errorf("%s: %w", op, cause)
		}
		var ce *connError
		if errors.As(cause, &ce) || errors.Is(cause, errStreamClosed) {
			return cause // our own watchdog or Close
		}
		return fmt.Errorf("%s: %w", op, cause) // the caller's ctx
	}
	var de *dialError
	if errors.As(err, &de) && (errors.Is(de.err, fs.ErrPermission) || errors.Is(de.err, syscall.EACCES)) {
		return &connError{
			msg:   fmt.Sprintf("permission denied on the switchyard daemon's socket %s: run as root, or as a member of the socket's group", c.addr),
			cause: de.err,
		}
	}
	if errors.As(err, &de) {
		return &connError{
			msg:   fmt.Sprintf("cannot reach the switchyard daemon at %s: is it running? start it with `switchyard daemon`", c.addr),
			cause: de.err,
		}
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return &connError{
			msg:   fmt.Sprintf("the switchyard daemon at %s presented a certificate this client does not trust; give the client its CA (WithTLSConfig)", c.addr),
			cause: err,
		}
	}
	if isCertRefusal(err) {
		return c.authErr(op, err)
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the answer was cut short
	}
	return c.connErr(op, fmt.Sprintf("lost the connection to the switchyard daemon at %s", c.addr), err)
}

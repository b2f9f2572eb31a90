package main

// A small client of the Kubernetes REST API: JSON over HTTPS, the standard
// library only (no client-go), so that the generator builds offline with
// the Go toolchain alone.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

type api struct {
	base string
	// admin authenticates with the cluster's admin client certificate
	// (system:masters): the world, node impersonation, the watch, deletes.
	admin *http.Client
	// bearer presents no client certificate, so that the API server
	// authenticates the pod's bound token (with a client certificate the
	// x509 authenticator would win).
	bearer *http.Client
}

func newTransport(cfg *tls.Config) *http.Transport {
	return &http.Transport{
		TLSClientConfig:     cfg,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
}

func newAPI(server, caFile, certFile, keyFile string) (*api, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("the cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("the cluster CA %s holds no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("the admin client certificate: %w", err)
	}
	adminTLS := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	bearerTLS := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &api{
		base:   server,
		admin:  &http.Client{Transport: newTransport(adminTLS), Timeout: 60 * time.Second},
		bearer: &http.Client{Transport: newTransport(bearerTLS), Timeout: 60 * time.Second},
	}, nil
}

// reqOpts: who the request is made as.
type reqOpts struct {
	token       string   // bearer token (the bearer client); "" for admin
	impersonate string   // Impersonate-User, with the admin client
	groups      []string // Impersonate-Group
	contentType string   // default application/json
}

// do sends one request; body (when not nil) is JSON-encoded unless it is
// already []byte. Returns the status and the body.
func (a *api) do(ctx context.Context, method, path string, body any, o reqOpts) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return 0, nil, err
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		ct := o.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	hc := a.admin
	if o.token != "" {
		hc = a.bearer
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	if o.impersonate != "" {
		req.Header.Set("Impersonate-User", o.impersonate)
		for _, g := range o.groups {
			req.Header.Add("Impersonate-Group", g)
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, rb, err
}

// expect is do with the status required to be one of want.
func (a *api) expect(ctx context.Context, method, path string, body any, o reqOpts, want ...int) ([]byte, error) {
	st, rb, err := a.do(ctx, method, path, body, o)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for _, w := range want {
		if st == w {
			return rb, nil
		}
	}
	msg := rb
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return rb, fmt.Errorf("%s %s: status %d: %s", method, path, st, msg)
}

// stream opens a long-running GET (a watch) as admin.
func (a *api) stream(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	// No client timeout: the watch lasts until the server ends it or ctx.
	hc := &http.Client{Transport: a.admin.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &statusError{code: resp.StatusCode, body: string(b)}
	}
	return resp, nil
}

type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.code, e.body) }

// fault-proxy: a fault-injecting reverse proxy in front of the real
// kube-apiserver, for tests/faults/proxy.sh. It is not an API server: every
// request is forwarded to the real one, with the client's bearer token
// unchanged, and every answer comes back from it, except for the faults a
// test asks for on the control port:
//
//	POST /inject-line?bytes=N   write one line of N bytes (a watch event
//	                            whose object is mostly padding) into every
//	                            CertificateSigningRequest watch stream open
//	                            now; answers the number of streams
//	POST /errors?code=C&seconds=S  answer every request with HTTP C (a
//	                            Kubernetes Status) for S seconds
//	POST /hold-lease-answer?seconds=S  forward the next PUT of a Lease at
//	                            once (the API server records it), and hold
//	                            its answer S seconds before passing it on
//	GET  /held                  wait (up to 30 s) until that answer is
//	                            held; answers "held"
//	GET  /stats                 counters, one "name value" per line
//
// Only what the real components cannot be made to do goes through here: an
// event line longer than etcd and the API server's request limits allow,
// 5xx answers on demand, and a write's answer that comes long after the
// write took. Built by the suite into build/ (std only).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type proxy struct {
	mu         sync.Mutex
	streams    map[*injector]struct{}
	errCode    int
	errUntil   time.Time
	holdFor    time.Duration // the next Lease PUT's answer waits this long
	held       chan struct{} // closed once that answer is held
	forwarded  atomic.Int64
	errAnswers atomic.Int64
	injected   atomic.Int64
}

// injector passes a watch stream through line by line, and can put a line
// of its own between two of them.
type injector struct {
	p       *proxy
	up      io.ReadCloser
	lines   chan []byte
	extra   chan []byte
	done    chan struct{}
	pending []byte
	err     error
	once    sync.Once
}

func (p *proxy) newInjector(up io.ReadCloser) *injector {
	in := &injector{p: p, up: up, lines: make(chan []byte, 16), extra: make(chan []byte, 4),
		done: make(chan struct{})}
	go in.pump()
	p.mu.Lock()
	p.streams[in] = struct{}{}
	p.mu.Unlock()
	return in
}

// pump reads the upstream stream in whole lines, so that an injected line
// never lands inside one.
func (in *injector) pump() {
	defer close(in.lines)
	buf := make([]byte, 0, 64*1024)
	tmp := make([]byte, 32*1024)
	for {
		n, err := in.up.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := strings.LastIndexByte(string(buf), '\n'); i >= 0 {
			line := append([]byte(nil), buf[:i+1]...)
			buf = append(buf[:0], buf[i+1:]...)
			select {
			case in.lines <- line:
			case <-in.done:
				return
			}
		}
		if err != nil {
			if len(buf) > 0 {
				select {
				case in.lines <- buf:
				case <-in.done:
				}
			}
			return
		}
	}
}

func (in *injector) Read(b []byte) (int, error) {
	for len(in.pending) == 0 {
		if in.err != nil {
			return 0, in.err
		}
		select {
		case l, ok := <-in.lines:
			if !ok {
				in.err = io.EOF
				continue
			}
			in.pending = l
		case l := <-in.extra:
			in.pending = l
		case <-in.done:
			return 0, io.EOF
		}
	}
	n := copy(b, in.pending)
	in.pending = in.pending[n:]
	return n, nil
}

func (in *injector) Close() error {
	in.once.Do(func() {
		close(in.done)
		in.p.mu.Lock()
		delete(in.p.streams, in)
		in.p.mu.Unlock()
	})
	return in.up.Close()
}

// hugeLine is a well-formed watch event of exactly n bytes with its '\n'.
func hugeLine(n int) []byte {
	head := `{"type":"ADDED","object":{"kind":"CertificateSigningRequest","apiVersion":"certificates.k8s.io/v1","metadata":{"name":"fault-proxy-huge-line","annotations":{"pad":"`
	tail := "\"}}}}\n"
	pad := n - len(head) - len(tail)
	if pad < 0 {
		pad = 0
	}
	b := make([]byte, 0, len(head)+pad+len(tail))
	b = append(b, head...)
	for i := 0; i < pad; i++ {
		b = append(b, 'x')
	}
	return append(b, tail...)
}

func isCSRWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return (w == "1" || w == "true") && strings.Contains(r.URL.Path, "/certificatesigningrequests")
}

func (p *proxy) failing() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Now().Before(p.errUntil) {
		return p.errCode
	}
	return 0
}

// takeHold: is r the Lease write whose answer is to be held? Then for how
// long, and the channel to close once it is held; the hold is used up.
func (p *proxy) takeHold(r *http.Request) (time.Duration, chan struct{}) {
	if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/leases/") {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.holdFor
	if d <= 0 {
		return 0, nil
	}
	p.holdFor = 0
	return d, p.held
}

func (p *proxy) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hold-lease-answer", func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.ParseFloat(r.URL.Query().Get("seconds"), 64)
		if r.Method != http.MethodPost || err != nil || secs <= 0 || secs > 60 {
			http.Error(w, "POST /hold-lease-answer?seconds=S (0..60)", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.holdFor = time.Duration(secs * float64(time.Second))
		p.held = make(chan struct{})
		p.mu.Unlock()
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/held", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		ch := p.held
		p.mu.Unlock()
		if ch == nil {
			http.Error(w, "nothing to hold: POST /hold-lease-answer first", http.StatusConflict)
			return
		}
		select {
		case <-ch:
			fmt.Fprintln(w, "held")
		case <-time.After(30 * time.Second):
			http.Error(w, "no Lease PUT came in 30 s", http.StatusGatewayTimeout)
		}
	})
	mux.HandleFunc("/inject-line", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("bytes"))
		if r.Method != http.MethodPost || err != nil || n < 1 || n > 64<<20 {
			http.Error(w, "POST /inject-line?bytes=N (1..64Mi)", http.StatusBadRequest)
			return
		}
		line := hugeLine(n)
		p.mu.Lock()
		count := 0
		for in := range p.streams {
			select {
			case in.extra <- line:
				count++
			default:
			}
		}
		p.mu.Unlock()
		p.injected.Add(int64(count))
		log.Printf("injected a %d-byte line into %d CSR watch stream(s)", n, count)
		fmt.Fprintf(w, "%d\n", count)
	})
	mux.HandleFunc("/errors", func(w http.ResponseWriter, r *http.Request) {
		code, err1 := strconv.Atoi(r.URL.Query().Get("code"))
		secs, err2 := strconv.ParseFloat(r.URL.Query().Get("seconds"), 64)
		if r.Method != http.MethodPost || err1 != nil || err2 != nil || code < 400 || code > 599 || secs < 0 {
			http.Error(w, "POST /errors?code=4xx|5xx&seconds=S", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.errCode = code
		p.errUntil = time.Now().Add(time.Duration(secs * float64(time.Second)))
		p.mu.Unlock()
		log.Printf("answering HTTP %d for %.1f s", code, secs)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		open := len(p.streams)
		p.mu.Unlock()
		fmt.Fprintf(w, "forwarded %d\nerror_answers %d\ninjected %d\ncsr_watch_streams %d\n",
			p.forwarded.Load(), p.errAnswers.Load(), p.injected.Load(), open)
	})
	return mux
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address for clients (TLS)")
	ctl := flag.String("control", "127.0.0.1:0", "address of the control port (plain HTTP, loopback)")
	upstream := flag.String("upstream", "", "the real API server, https://HOST:PORT")
	upCA := flag.String("upstream-ca", "", "CA bundle of the API server")
	cert := flag.String("cert", "", "serving certificate")
	key := flag.String("key", "", "serving key")
	flag.Parse()
	if *upstream == "" || *upCA == "" || *cert == "" || *key == "" {
		log.Fatal("usage: fault-proxy -upstream URL -upstream-ca F -cert F -key F [-listen A] [-control A]")
	}
	u, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	caPEM, err := os.ReadFile(*upCA)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		log.Fatalf("%s: no certificate", *upCA)
	}
	p := &proxy{streams: map[*injector]struct{}{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	rp.Transport = &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   false,
		MaxIdleConnsPerHost: 32,
	}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode == http.StatusOK && isCSRWatch(resp.Request) {
			resp.Body = p.newInjector(resp.Body)
		}
		return nil
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if !errors.Is(err, context.Canceled) {
			log.Printf("%s %s: upstream: %v", r.Method, r.URL.RequestURI(), err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := p.failing(); code != 0 {
			p.errAnswers.Add(1)
			log.Printf("%s %s: injected %d", r.Method, r.URL.RequestURI(), code)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"fault-proxy: injected HTTP %d","reason":"InternalError","code":%d}`, code, code)
			return
		}
		p.forwarded.Add(1)
		if d, ch := p.takeHold(r); ch != nil {
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			log.Printf("%s %s: answered %d; holding the answer %v", r.Method, r.URL.RequestURI(), rec.Code, d)
			close(ch)
			time.Sleep(d)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			log.Printf("%s %s: passed the held answer on", r.Method, r.URL.RequestURI())
			return
		}
		rp.ServeHTTP(w, r)
	})
	kp, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr:    *listen,
		Handler: front,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"}},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() {
		log.Fatal(http.ListenAndServe(*ctl, p.control()))
	}()
	log.Printf("forwarding %s to %s", *listen, *upstream)
	log.Fatal(srv.ListenAndServeTLS("", ""))
}

package main

// The soak itself: CSRs created at a steady rate, a watch that sees each
// one decided, deletes some time after, the controllers' /proc figures.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type record struct {
	seq        int
	name       string
	id         *identity
	t          *template
	sent       time.Time
	created    bool   // the API server has it (its answer, or the watch)
	createErr  string // the last error of the create request, if it failed
	decidedAt  time.Time
	gotType    string // the first Approved or Denied condition seen
	gotReason  string
	decisions  int // most Approved/Denied conditions seen at once
	failedCond bool
	queued     bool // handed to the deleter
	deleted    bool
}

type runner struct {
	a        *api
	w        *world
	rate     float64
	seconds  int
	keep     time.Duration
	drain    time.Duration
	inflight int

	ids  []*identity // workloads first, then nodes
	nWl  int
	recs []*record

	mu      sync.Mutex
	byName  map[string]*record
	decided int
	created int
	alive   int // created and not yet deleted (as far as this process did)
	maxLive int

	createLat latencies
	deleteLat latencies
	deleteQ   chan *record
	sent      int // CSRs whose create was sent
	liveCap   int
	deleted   atomic.Int64
	deleteErr atomic.Int64
	t0        time.Time
	lastSent  time.Time
	cond      *sync.Cond
}

// plan returns the identity and template of CSR seq: two workload requests
// for one kubelet-serving one, every tenth built to be denied, the ways to
// be wrong taken in turn.
func (r *runner) plan(seq int) (*identity, *template) {
	var id *identity
	if seq%3 == 2 {
		id = r.ids[r.nWl+(seq/3)%(len(r.ids)-r.nWl)]
	} else {
		id = r.ids[(seq/3)%r.nWl]
	}
	if seq%10 == 7 {
		return id, &id.bad[(seq/10)%len(id.bad)]
	}
	return id, &id.good
}

func (r *runner) csrBody(rec *record) map[string]any {
	spec := map[string]any{"request": rec.t.request, "signerName": rec.id.signer, "usages": rec.t.usages}
	if rec.t.expiration > 0 {
		spec["expirationSeconds"] = rec.t.expiration
	}
	return map[string]any{"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
		"metadata": map[string]any{"name": rec.name, "labels": r.w.labels()}, "spec": spec}
}

const csrPath = "/apis/certificates.k8s.io/v1/certificatesigningrequests"

// create sends one CSR; a 429 or 5xx, or no answer, is tried again (a 409
// after a try that got no answer means the first one took).
func (r *runner) create(ctx context.Context, rec *record) {
	o := reqOpts{token: rec.id.token}
	if !rec.id.workload {
		o = reqOpts{impersonate: rec.id.user, groups: []string{"system:nodes", "system:authenticated"}}
	}
	body := r.csrBody(rec)
	for try := 0; try < 5 && ctx.Err() == nil; try++ {
		t := time.Now()
		st, rb, err := r.a.do(ctx, "POST", csrPath, body, o)
		r.createLat.add(time.Since(t))
		switch {
		case err == nil && st == 201, err == nil && st == 409 && try > 0:
			r.markCreated(rec)
			return
		case err != nil:
			rec.createErr = err.Error()
		default:
			rec.createErr = fmt.Sprintf("status %d: %.200s", st, rb)
			if st != 429 && st < 500 {
				return
			}
		}
		time.Sleep(time.Duration(200*(try+1)) * time.Millisecond)
	}
}

func (r *runner) markCreated(rec *record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !rec.created {
		rec.created = true
		r.created++
		r.alive++
		if r.alive > r.maxLive {
			r.maxLive = r.alive
		}
	}
}

type csrObject struct {
	Metadata struct {
		Name            string `json:"name"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Status struct {
		Conditions []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"conditions"`
	} `json:"status"`
}

// observe: the CSR as the watch (or a relist) shows it.
func (r *runner) observe(obj *csrObject, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.byName[obj.Metadata.Name]
	if rec == nil {
		return
	}
	if !rec.created {
		rec.created = true
		r.created++
		r.alive++
	}
	n := 0
	for _, c := range obj.Status.Conditions {
		switch c.Type {
		case "Approved", "Denied":
			n++
			if rec.gotType == "" {
				rec.gotType, rec.gotReason = c.Type, c.Reason
			}
		case "Failed":
			rec.failedCond = true
		}
	}
	if n > rec.decisions {
		rec.decisions = n
	}
	if n > 0 && rec.decidedAt.IsZero() {
		rec.decidedAt = now
		r.decided++
		r.cond.Broadcast()
		if r.keep >= 0 && !rec.queued {
			rec.queued = true
			r.deleteQ <- rec
		}
	}
}

// relist reads every CSR of the run; returns the list's resourceVersion.
func (r *runner) relist(ctx context.Context) (string, error) {
	sel := url.QueryEscape(r.w.labelKey + "=" + r.w.run)
	cont := ""
	for {
		path := csrPath + "?limit=500&labelSelector=" + sel
		if cont != "" {
			path += "&continue=" + url.QueryEscape(cont)
		}
		rb, err := r.a.expect(ctx, "GET", path, nil, reqOpts{}, 200)
		if err != nil {
			return "", err
		}
		var l struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
				Continue        string `json:"continue"`
			} `json:"metadata"`
			Items []csrObject `json:"items"`
		}
		if err := json.Unmarshal(rb, &l); err != nil {
			return "", err
		}
		now := time.Now()
		for i := range l.Items {
			r.observe(&l.Items[i], now)
		}
		if l.Metadata.Continue == "" {
			return l.Metadata.ResourceVersion, nil
		}
		cont = l.Metadata.Continue
	}
}

var errGone = errors.New("resourceVersion too old")

// watchOnce follows the watch from rv until it ends; returns the last rv.
func (r *runner) watchOnce(ctx context.Context, rv string) (string, error) {
	sel := url.QueryEscape(r.w.labelKey + "=" + r.w.run)
	resp, err := r.a.stream(ctx, csrPath+"?watch=1&allowWatchBookmarks=true&labelSelector="+sel+
		"&resourceVersion="+url.QueryEscape(rv))
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.code == 410 {
			return rv, errGone
		}
		return rv, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(resp.Body, 1<<16))
	for {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return rv, nil
			}
			return rv, err
		}
		if ev.Type == "ERROR" {
			var st struct {
				Code int `json:"code"`
			}
			_ = json.Unmarshal(ev.Object, &st)
			if st.Code == 410 {
				return rv, errGone
			}
			return rv, fmt.Errorf("watch error event: %.200s", ev.Object)
		}
		var obj csrObject
		if err := json.Unmarshal(ev.Object, &obj); err != nil {
			return rv, err
		}
		if obj.Metadata.ResourceVersion != "" {
			rv = obj.Metadata.ResourceVersion
		}
		if ev.Type == "ADDED" || ev.Type == "MODIFIED" {
			r.observe(&obj, time.Now())
		}
	}
}

func (r *runner) watch(ctx context.Context, rv string) {
	for ctx.Err() == nil {
		var err error
		rv, err = r.watchOnce(ctx, rv)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errGone) {
			if nrv, lerr := r.relist(ctx); lerr == nil {
				rv = nrv
			} else {
				fmt.Fprintf(os.Stderr, "loadgen: relist: %v\n", lerr)
			}
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: watch: %v (again)\n", err)
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// deleter: a CSR is deleted keep after it was seen decided and checked.
// Why delete at all: a real cluster does not keep 60,000 CSRs (the kubelet
// and cert-manager clean up, kube-controller-manager's cleaner removes
// decided CSRs after an hour), and the controller's memory is only
// measured in a steady state if the set of CSRs stops growing. keep leaves
// each one long enough to show a second decision on its conditions; the
// controllers' audit logs show any decision made after that.
func (r *runner) deleter(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	work := make(chan *record)
	var ww sync.WaitGroup
	for i := 0; i < deleteWorkers; i++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for rec := range work {
				t := time.Now()
				_, err := r.a.expect(ctx, "DELETE", csrPath+"/"+rec.name, nil, reqOpts{}, 200, 202, 404)
				r.deleteLat.add(time.Since(t))
				if err != nil {
					r.deleteErr.Add(1)
					continue
				}
				r.deleted.Add(1)
				r.mu.Lock()
				r.alive--
				rec.deleted = true
				r.mu.Unlock()
			}
		}()
	}
	defer func() { close(work); ww.Wait() }()
	for {
		select {
		case <-ctx.Done():
			return
		case rec, ok := <-r.deleteQ:
			if !ok {
				return
			}
			r.mu.Lock()
			at := rec.decidedAt.Add(r.keep)
			r.mu.Unlock()
			if d := time.Until(at); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			select {
			case work <- rec:
			case <-ctx.Done():
				return
			}
		}
	}
}

// percentile of sorted durations (nearest rank).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p/100*float64(len(d))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i]
}

// drive creates rate CSRs a second for seconds, each at its own time (an
// open loop: a slow answer does not slow the schedule, up to inflight
// requests at once), and stops at seconds whatever it sent: the soak lasts
// its time, and a rate not achieved is reported. While the CSRs of the run
// exceed liveCap (the deletes fell behind the creates) it waits for them:
// the number of CSRs, and with it what the controllers hold, stays level.
func (r *runner) drive(ctx context.Context) {
	total := len(r.recs)
	sem := make(chan struct{}, r.inflight)
	var wg sync.WaitGroup
	r.t0 = time.Now()
	end := r.t0.Add(time.Duration(r.seconds) * time.Second)
	for seq := 0; seq < total && ctx.Err() == nil; seq++ {
		due := r.t0.Add(time.Duration(float64(seq) / r.rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		for r.live() >= r.liveCap && time.Now().Before(end) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		sem <- struct{}{}
		if !time.Now().Before(end) {
			<-sem
			break
		}
		rec := r.recs[seq]
		rec.sent = time.Now()
		r.sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.create(ctx, rec)
			<-sem
		}()
	}
	r.lastSent = time.Now()
	wg.Wait()
}

func (r *runner) live() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alive
}

// waitDecided waits for every created CSR to be seen decided, or timeout.
func (r *runner) waitDecided(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer t.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.decided < r.created && time.Now().Before(deadline) {
		r.cond.Wait()
	}
	return r.decided >= r.created
}

func writeResults(path string, recs []*record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	for _, rec := range recs {
		if !rec.created {
			continue
		}
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\n", rec.name, rec.t.wantType, rec.t.wantReason, rec.t.variant)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func seqOf(name, run string) (int, bool) {
	s, ok := strings.CutPrefix(name, run+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// sortedDurations: create sent to decision seen, of the CSRs decided with
// condition type typ ("" for all).
func sortedDurations(recs []*record, typ string) []time.Duration {
	var d []time.Duration
	for _, rec := range recs {
		if !rec.decidedAt.IsZero() && (typ == "" || rec.gotType == typ) {
			d = append(d, rec.decidedAt.Sub(rec.sent))
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

// Deletes in flight at once: a delete waits on etcd like a create, and
// the deletes must keep pace with the creates for the number of CSRs to
// stay level.
const deleteWorkers = 64

// latencies of one kind of request, for the figures.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) sorted() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := append([]time.Duration(nil), l.d...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

// deleteRest deletes every CSR of the run still there, deleteWorkers at a
// time: one DELETE of the collection would outlast the API server's
// request timeout with thousands of CSRs, and the suite's teardown
// (kubectl, one at a time) would take minutes.
func (r *runner) deleteRest(ctx context.Context) {
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < deleteWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				_, _ = r.a.expect(ctx, "DELETE", csrPath+"/"+name, nil, reqOpts{}, 200, 202, 404)
			}
		}()
	}
	r.mu.Lock()
	var rest []string
	for _, rec := range r.recs {
		if rec.created && !rec.deleted {
			rest = append(rest, rec.name)
		}
	}
	r.mu.Unlock()
	for _, n := range rest {
		work <- n
	}
	close(work)
	wg.Wait()
}

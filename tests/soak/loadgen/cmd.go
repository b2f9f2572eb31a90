package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func cmdRun(ctx context.Context, args []string) int {
	var c common
	var pids multi
	var leader, results, wsigner, seriesOut string
	var rate float64
	var seconds, keep, drain, inflight int
	var warmFrac, rssLimit float64
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	c.flags(fs)
	fs.StringVar(&wsigner, "workload-signer", "", "signerName of the workload policy")
	fs.Float64Var(&rate, "rate", 100, "CSRs a second")
	fs.IntVar(&seconds, "seconds", 60, "seconds of load")
	fs.IntVar(&keep, "keep", 20, "seconds a decided CSR is kept before it is deleted (-1: never)")
	fs.IntVar(&drain, "drain", 60, "seconds to wait for the last decisions")
	fs.IntVar(&inflight, "inflight", 64, "create requests in flight at most")
	fs.Var(&pids, "pid", "NAME=PID of a process to sample (repeatable)")
	fs.StringVar(&leader, "leader", "", "NAME of the process whose memory and descriptors are checked")
	fs.StringVar(&results, "results", "", "write NAME, wanted type, reason and variant of each CSR here")
	fs.StringVar(&seriesOut, "series", "", "write the samples here: seconds, undecided CSRs, then RSS KiB, fds, CPU s of each --pid")
	fs.Float64Var(&warmFrac, "warm-up", 0.2, "part of the run that is warm-up")
	fs.Float64Var(&rssLimit, "rss-growth", 5, "most RSS growth after warm-up, in percent")
	_ = fs.Parse(args)
	if err := c.check(); err != nil {
		die("run: %v", err)
	}
	if wsigner == "" || rate <= 0 || seconds <= 0 {
		die("run: --workload-signer, a positive --rate and --seconds are required")
	}
	procs, err := parsePids(pids)
	if err != nil {
		die("run: %v", err)
	}
	a, err := newAPI(c.server, c.ca, c.cert, c.key)
	if err != nil {
		die("run: %v", err)
	}
	w := &c.w
	r := &runner{a: a, w: w, rate: rate, seconds: seconds, keep: time.Duration(keep) * time.Second,
		drain: time.Duration(drain) * time.Second, inflight: inflight, byName: map[string]*record{}}
	if keep < 0 {
		r.keep = -1
	}
	r.cond = sync.NewCond(&r.mu)
	// Steady state holds about rate x (keep + latency) CSRs.
	r.liveCap = int(rate * float64(keep+30))
	if keep < 0 {
		r.liveCap = int(^uint(0) >> 1)
	}

	for i := 0; i < w.pods; i++ {
		tok, err := w.podToken(ctx, a, i)
		if err != nil {
			die("run: %v", err)
		}
		id, err := w.workloadIdentity(i, tok, wsigner)
		if err != nil {
			die("run: %v", err)
		}
		r.ids = append(r.ids, id)
	}
	r.nWl = len(r.ids)
	for j := 0; j < w.nodes; j++ {
		id, err := w.nodeIdentity(j, "kubernetes.io/kubelet-serving")
		if err != nil {
			die("run: %v", err)
		}
		r.ids = append(r.ids, id)
	}
	total := int(rate * float64(seconds))
	r.deleteQ = make(chan *record, total+1) // never blocks observe()
	for seq := 0; seq < total; seq++ {
		id, t := r.plan(seq)
		rec := &record{seq: seq, name: fmt.Sprintf("%s-%d", w.run, seq), id: id, t: t}
		r.recs = append(r.recs, rec)
		r.byName[rec.name] = rec
	}

	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	rv, err := r.relist(wctx)
	if err != nil {
		die("run: list CSRs: %v", err)
	}
	go r.watch(wctx, rv)
	var dwg sync.WaitGroup
	dwg.Add(1)
	go r.deleter(wctx, &dwg)

	// Sample once a second, from just before the first CSR.
	start := time.Now()
	sdone := make(chan struct{})
	var smu sync.Mutex
	// CSRs created and not yet seen decided, each second (in fds).
	var backlog []sample
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			smu.Lock()
			at := time.Since(start)
			for _, p := range procs {
				p.take(at)
			}
			r.mu.Lock()
			backlog = append(backlog, sample{at: at, fds: r.created - r.decided})
			r.mu.Unlock()
			smu.Unlock()
			select {
			case <-sdone:
				return
			case <-tk.C:
			}
		}
	}()

	figure("load: %d CSRs at %.0f/s for %ds (%d pods, %d nodes; a decided CSR is deleted %ds later)",
		total, rate, seconds, w.pods, w.nodes, keep)
	r.drive(ctx)
	sendSecs := r.lastSent.Sub(r.t0).Seconds()
	loadEnd := time.Since(start)
	allDecided := r.waitDecided(r.drain)
	drainSecs := time.Since(r.t0).Seconds() - sendSecs
	close(sdone)
	smu.Lock()
	defer smu.Unlock()

	r.mu.Lock()
	var createErrs []string
	var undecided, wrong, twice []string
	var approved, denied, failedCond int
	byVariant := map[string]int{}
	for _, rec := range r.recs {
		if rec.sent.IsZero() {
			continue
		}
		if !rec.created {
			createErrs = append(createErrs, rec.name+": "+rec.createErr)
			continue
		}
		byVariant[rec.t.variant]++
		if rec.decidedAt.IsZero() {
			undecided = append(undecided, rec.name)
			continue
		}
		if rec.gotType == "Approved" {
			approved++
		} else {
			denied++
		}
		if rec.failedCond {
			failedCond++
		}
		if rec.gotType != rec.t.wantType || rec.gotReason != rec.t.wantReason {
			wrong = append(wrong, fmt.Sprintf("%s (%s from %s): want %s:%s, got %s:%s", rec.name,
				rec.t.variant, rec.id.description, rec.t.wantType, rec.t.wantReason, rec.gotType, rec.gotReason))
		}
		if rec.decisions != 1 {
			twice = append(twice, fmt.Sprintf("%s: %d decision conditions", rec.name, rec.decisions))
		}
	}
	created, maxLive := r.created, r.maxLive
	durs := sortedDurations(r.recs, "")
	dApproved := sortedDurations(r.recs, "Approved")
	dDenied := sortedDurations(r.recs, "Denied")
	r.mu.Unlock()

	figure("rate: %d CSRs created in %.1fs: %.1f/s achieved (asked %.0f/s, %d planned); %d create requests failed",
		created, sendSecs, float64(created)/sendSecs, rate, total, len(createErrs))
	figure("decisions: %d approved, %d denied (%d were meant to be denied), %d undecided; %.1fs after the last create",
		approved, denied, countDenied(r.recs), len(undecided), drainSecs)
	var vs []string
	for v, n := range byVariant {
		vs = append(vs, fmt.Sprintf("%s %d", v, n))
	}
	sort.Strings(vs)
	figure("requests: %s", strings.Join(vs, ", "))
	figure("create->decided (create sent to decision seen on a watch): p50 %s, p90 %s, p99 %s, max %s",
		ms(percentile(durs, 50)), ms(percentile(durs, 90)), ms(percentile(durs, 99)), ms(percentile(durs, 100)))
	figure("create->decided by decision: approved p50 %s, p99 %s; denied p50 %s, p99 %s (a denial that rests on cluster state is read again live first)",
		ms(percentile(dApproved, 50)), ms(percentile(dApproved, 99)), ms(percentile(dDenied, 50)), ms(percentile(dDenied, 99)))
	cl, dl := r.createLat.sorted(), r.deleteLat.sorted()
	figure("API requests of the generator: create p50 %s, p99 %s; delete p50 %s, p99 %s",
		ms(percentile(cl, 50)), ms(percentile(cl, 99)), ms(percentile(dl, 50)), ms(percentile(dl, 99)))
	figure("deleted %d CSRs (%d deletes failed); at most %d CSRs of the run existed at once (creates wait above %d); %d got a Failed condition",
		r.deleted.Load(), r.deleteErr.Load(), maxLive, r.liveCap, failedCond)

	check(fmt.Sprintf("every CSR sent was created (%d)", r.sent), len(createErrs) == 0,
		fmt.Sprintf("%d failed, e.g. %s", len(createErrs), first(createErrs, 3)))
	check(fmt.Sprintf("every CSR decided (%d)", created), allDecided && len(undecided) == 0,
		fmt.Sprintf("%d undecided %.0fs after the last create: %s", len(undecided), drainSecs, first(undecided, 5)))
	check("every CSR decided as the policy says (Approved:AutoApproved, or Denied with the reason it was built for)",
		len(wrong) == 0, fmt.Sprintf("%d wrong: %s", len(wrong), first(wrong, 5)))
	check("every decided CSR holds exactly one Approved or Denied condition", len(twice) == 0,
		fmt.Sprintf("%d: %s", len(twice), first(twice, 5)))

	warm := time.Duration(warmFrac * float64(loadEnd))
	tail := loadEnd / 20
	// Memory and descriptors are compared at the same load. The controller
	// holds memory and one connection (HTTP/1.1) per request in flight, so
	// both follow the undecided backlog, which follows the API server's
	// latency; and the heap keeps its high-water mark. A backlog after
	// warm-up higher than any during it (the API server slowed down by a
	// busy machine, or its 429s) raises RSS for good without any leak: the
	// comparison is then skipped, and said so.
	bw := maxFDs(windowOf(backlog, 0, warm))
	ba := maxFDs(windowOf(backlog, warm, loadEnd))
	slack := int(rate / 2)
	if slack < 10 {
		slack = 10
	}
	steady := ba <= bw+slack
	figure("undecided CSRs: at most %d during warm-up, at most %d after it (%s)", bw, ba,
		map[bool]string{true: "no higher backlog after warm-up", false: "a higher backlog after warm-up"}[steady])
	for _, p := range procs {
		s := p.samples
		if len(s) == 0 {
			figure("%s (pid %d): no sample", p.name, p.pid)
			continue
		}
		ws := p.window(warm, warm+tail)
		es := p.window(loadEnd-tail, loadEnd)
		last := s[len(s)-1]
		cpuLoad := 0.0
		if ls := p.window(0, loadEnd); len(ls) > 1 {
			cpuLoad = (ls[len(ls)-1].cpu - ls[0].cpu) / (ls[len(ls)-1].at - ls[0].at).Seconds()
		}
		figure("%s (pid %d%s): RSS %d KiB at start, %d KiB after warm-up (%.0fs), %d KiB at the end of the load, %d KiB last; "+
			"fds %d at start, at most %d in warm-up, at most %d at the end of the load, %d last; "+
			"CPU %.1fs in all, %.0f%% of a core during the load",
			p.name, p.pid, map[bool]string{true: ", exited", false: ""}[p.gone],
			s[0].rssKB, medianRSS(ws), warm.Seconds(), medianRSS(es), last.rssKB,
			s[0].fds, maxFDs(p.window(0, warm)), maxFDs(es), last.fds, last.cpu, 100*cpuLoad)
		if p.name != leader {
			continue
		}
		if p.gone || len(ws) == 0 || len(es) == 0 {
			checkFail("the leader's memory and descriptors were sampled through the run",
				fmt.Sprintf("%d samples, exited: %v", len(s), p.gone))
			continue
		}
		wr, er := medianRSS(ws), medianRSS(es)
		growth := 100 * float64(er-wr) / float64(wr)
		fw, fe := maxFDs(p.window(0, warm)), maxFDs(es)
		if !steady {
			why := fmt.Sprintf("the controller held more undecided CSRs after warm-up (%d) than during it (%d): "+
				"its memory and connections grew with the backlog; not compared", ba, bw)
			checkSkip(fmt.Sprintf("the leader's RSS grows less than %.0f%% after warm-up (%d -> %d KiB, %+.1f%%)", rssLimit, wr, er, growth), why)
			checkSkip(fmt.Sprintf("the leader's open descriptors do not grow (at most %d in warm-up, %d at the end)", fw, fe), why)
			continue
		}
		check(fmt.Sprintf("the leader's RSS grows less than %.0f%% after warm-up (%d -> %d KiB, %+.1f%%)", rssLimit, wr, er, growth),
			growth < rssLimit, fmt.Sprintf("%+.1f%%", growth))
		// A descriptor a request leaks stays open: the count at the end
		// of the load would pass what warm-up, at the same rate, needed.
		check(fmt.Sprintf("the leader's open descriptors do not grow (at most %d in warm-up, %d at the end)", fw, fe),
			fe <= fw, fmt.Sprintf("%d -> %d", fw, fe))
	}
	if leader != "" && !hasProc(procs, leader) {
		checkFail("the leader was sampled", "no --pid "+leader)
	}

	if seriesOut != "" {
		if err := writeSeries(seriesOut, backlog, procs); err != nil {
			die("run: %v", err)
		}
	}
	if results != "" {
		if err := writeResults(results, r.recs); err != nil {
			die("run: %v", err)
		}
	}
	wcancel()
	dwg.Wait()
	r.deleteRest(context.Background())
	if failed {
		return 1
	}
	return 0
}

func hasProc(ps []*proc, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

func countDenied(recs []*record) int {
	n := 0
	for _, r := range recs {
		if r.created && r.t.wantType == "Denied" {
			n++
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func first(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], "; ") + fmt.Sprintf("; ... (%d more)", len(s)-n)
	}
	return strings.Join(s, "; ")
}

// cmdCheck: each CSR of the results has exactly one decision across the
// audit logs and one "decided" line across the logs, and they are right.
func cmdCheck(args []string) int {
	var audits, logs multi
	var results string
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	fs.StringVar(&results, "results", "", "the results file of run")
	fs.Var(&audits, "audit", "an audit log (--audit-log) of a replica (repeatable)")
	fs.Var(&logs, "log", "the log of a replica (repeatable)")
	_ = fs.Parse(args)
	if results == "" || len(audits) == 0 || len(logs) == 0 {
		die("check: --results, --audit and --log are required")
	}
	type want struct{ typ, reason string }
	wants := map[string]want{}
	var order []string
	f, err := os.Open(results)
	if err != nil {
		die("check: %v", err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) < 3 {
			die("check: %s: bad line %q", results, sc.Text())
		}
		wants[p[0]] = want{p[1], p[2]}
		order = append(order, p[0])
	}
	f.Close()

	type seen struct {
		n      int
		got    []string
		holder []string
	}
	audit := map[string]*seen{}
	perFile := map[string]int{}
	for _, path := range audits {
		err := eachJSONLine(path, func(m map[string]any) {
			if m["event"] != "decision" || m["kind"] != "CertificateSigningRequest" {
				return
			}
			name, _ := m["name"].(string)
			if _, ok := wants[name]; !ok {
				return
			}
			s := audit[name]
			if s == nil {
				s = &seen{}
				audit[name] = s
			}
			s.n++
			d, _ := m["decision"].(string)
			rs, _ := m["reason"].(string)
			s.got = append(s.got, d+":"+rs)
			s.holder = append(s.holder, path)
			perFile[path]++
		})
		if err != nil {
			die("check: %v", err)
		}
	}
	lines := map[string]int{}
	perLog := map[string]int{}
	for _, path := range logs {
		err := eachJSONLine(path, func(m map[string]any) {
			if m["msg"] != "decided" {
				return
			}
			name, _ := m["csr"].(string)
			if _, ok := wants[name]; ok {
				lines[name]++
				perLog[path]++
			}
		})
		if err != nil {
			die("check: %v", err)
		}
	}
	var notOnce, wrong, linesBad []string
	for _, name := range order {
		w := wants[name]
		s := audit[name]
		if s == nil || s.n != 1 {
			n := 0
			var got []string
			if s != nil {
				n, got = s.n, s.got
			}
			notOnce = append(notOnce, fmt.Sprintf("%s: %d audit decisions %v", name, n, got))
		} else {
			wd := map[string]string{"Approved": "approve", "Denied": "deny"}[w.typ]
			if s.got[0] != wd+":"+w.reason {
				wrong = append(wrong, fmt.Sprintf("%s: want %s:%s, audit says %s", name, wd, w.reason, s.got[0]))
			}
		}
		if lines[name] != 1 {
			linesBad = append(linesBad, fmt.Sprintf("%s: %d decided lines", name, lines[name]))
		}
	}
	var pf []string
	for _, p := range audits {
		pf = append(pf, fmt.Sprintf("%s %d", p, perFile[p]))
	}
	figure("audit decisions per replica: %s", strings.Join(pf, ", "))
	check(fmt.Sprintf("each CSR decided once across the replicas' audit logs (%d CSRs)", len(order)),
		len(notOnce) == 0, fmt.Sprintf("%d: %s", len(notOnce), first(notOnce, 5)))
	check("each audit decision is the one the CSR was built for", len(wrong) == 0,
		fmt.Sprintf("%d: %s", len(wrong), first(wrong, 5)))
	check("each CSR has one \"decided\" log line across the replicas", len(linesBad) == 0,
		fmt.Sprintf("%d: %s", len(linesBad), first(linesBad, 5)))
	if failed {
		return 1
	}
	return 0
}

// eachJSONLine calls fn for each line of path that is a JSON object.
func eachJSONLine(path string, fn func(map[string]any)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) == 0 || b[0] != '{' {
			continue
		}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			fn(m)
		}
	}
	return sc.Err()
}

// Command promcheck checks that its standard input is valid Prometheus text
// exposition format (version 0.0.4), with the Prometheus client library's own
// parser, and applies a few of promtool's naming rules. It is the fallback
// of hack/build-promtool.sh for when promtool itself cannot be built; it
// takes the same arguments as promtool for this one job:
//
//	promcheck check metrics < metrics.txt
//
// Exit status: 0 valid, 1 unparsable or a rule broken, 2 bad usage.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "check" || os.Args[2] != "metrics" {
		fmt.Fprintln(os.Stderr, "usage: promcheck check metrics < FILE")
		os.Exit(2)
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error reading stdin:", err)
		os.Exit(1)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(in))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error while linting:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	sort.Strings(names)
	problems := 0
	for _, name := range names {
		for _, p := range lint(families[name]) {
			fmt.Fprintf(os.Stderr, "%s %s\n", name, p)
			problems++
		}
	}
	if problems > 0 {
		os.Exit(1)
	}
}

// lint applies the naming rules of promtool's linter that matter here.
func lint(mf *dto.MetricFamily) []string {
	var out []string
	name := mf.GetName()
	if strings.TrimSpace(mf.GetHelp()) == "" {
		out = append(out, "no help text")
	}
	if strings.ToLower(name) != name {
		out = append(out, "metric names should be written in 'snake_case' not 'camelCase'")
	}
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		if !strings.HasSuffix(name, "_total") {
			out = append(out, "counter metrics should have \"_total\" suffix")
		}
	default:
		if strings.HasSuffix(name, "_total") {
			out = append(out, "non-counter metrics should not have \"_total\" suffix")
		}
	}
	if mf.GetType() != dto.MetricType_HISTOGRAM && mf.GetType() != dto.MetricType_SUMMARY {
		for _, s := range []string{"_count", "_sum", "_bucket"} {
			if strings.HasSuffix(name, s) {
				out = append(out, fmt.Sprintf("non-histogram and non-summary metrics should not have %q suffix", s))
			}
		}
	}
	if mf.GetType() == dto.MetricType_HISTOGRAM {
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			var last uint64
			for _, b := range h.GetBucket() {
				if b.GetCumulativeCount() < last {
					out = append(out, "histogram buckets are not cumulative")
				}
				last = b.GetCumulativeCount()
			}
			if h.GetSampleCount() < last {
				out = append(out, "histogram count is below its last bucket")
			}
		}
	}
	return out
}

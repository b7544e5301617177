package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Row is one line of the comparison table.
type Row struct {
	Label    string             `json:"label"`
	Scenario string             `json:"scenario"`
	Metric   string             `json:"metric"`
	Better   string             `json:"better"` // "higher" or "lower"
	Cells    map[string]Spread  `json:"cells"`  // by server
	Ratio    map[string]float64 `json:"ratio_vs_node,omitempty"`
}

type rowSpec struct {
	label, scenario, metric string
	higher                  bool
}

func (r *Results) rowSpecs() []rowSpec {
	p := r.Plan
	var specs []rowSpec
	for _, n := range p.IdleSizes {
		specs = append(specs, rowSpec{fmt.Sprintf("idle: KiB per websocket connection at %s", count(n)), "idle/" + strconv.Itoa(n), "kib_per_conn", false})
	}
	if len(p.IdleSizes) > 0 {
		big := p.IdleSizes[len(p.IdleSizes)-1]
		s := "idle/" + strconv.Itoa(big)
		specs = append(specs,
			rowSpec{fmt.Sprintf("idle: server RSS with %s connections (MiB)", count(big)), s, "rss_mib", false},
			rowSpec{fmt.Sprintf("idle: goroutines per connection at %s", count(big)), s, "goroutines_conn", false},
			rowSpec{fmt.Sprintf("idle: connections dropped while held (of %s)", count(big)), s, "dropped", false},
			rowSpec{fmt.Sprintf("idle: connects per second (%s, 100 in parallel)", count(big)), s, "connects_per_s", true},
		)
	}
	specs = append(specs,
		rowSpec{fmt.Sprintf("echo, websocket, %d clients: acks/s", p.EchoClients), "echo", "acks_per_s", true},
		rowSpec{"echo: p50 latency (ms)", "echo", "p50_ms", false},
		rowSpec{"echo: p99 latency (ms)", "echo", "p99_ms", false},
		rowSpec{"echo: server CPU per ack (us)", "echo", "cpu_us_per_ack", false},
		rowSpec{fmt.Sprintf("broadcast to %s: highest clean rate (msg/s; loss <= 1%%, p99 <= 1 s)", count(p.Receivers)), "broadcast", "best_rate", true},
		rowSpec{"broadcast: p50 / p99 at 25 msg/s (ms)", "broadcast", "p50_ms_25|p99_ms_25", false},
		rowSpec{"broadcast: p50 / p99 at 100 msg/s (ms)", "broadcast", "p50_ms_100|p99_ms_100", false},
		rowSpec{"broadcast: server CPU per delivery at 10 msg/s (us)", "broadcast", "cpu_us_per_delivery_10", false},
		rowSpec{fmt.Sprintf("broadcast: set-up, %s joins with presence (s)", count(p.Receivers)), "broadcast", "setup_s", false},
		rowSpec{"broadcast: deliveries of the clean steps that never arrived", "broadcast", "missing", false},
		rowSpec{fmt.Sprintf("polling echo, %d clients: acks/s", p.PollClients), "polling", "acks_per_s", true},
		rowSpec{"polling echo: p99 latency (ms)", "polling", "p99_ms", false},
		rowSpec{"polling echo: server CPU per ack (us)", "polling", "cpu_us_per_ack", false},
		// The next scenario (only when asked for; rows without runs drop out).
		rowSpec{fmt.Sprintf("next: websocket echo, %d clients, acks/s direct / through next start", p.EchoClients), "next", "ws_direct_acks_per_s|ws_next_acks_per_s", true},
		rowSpec{"next: websocket echo p99 direct / through next start (ms)", "next", "ws_direct_p99_ms|ws_next_p99_ms", false},
		rowSpec{"next: websocket acks/s through next start ÷ direct", "next", "ws_next_ratio", true},
		rowSpec{fmt.Sprintf("next: polling echo, %d clients, acks/s direct / through next start", p.EchoClients), "next", "poll_direct_acks_per_s|poll_next_acks_per_s", true},
		rowSpec{"next: polling echo p99 direct / through next start (ms)", "next", "poll_direct_p99_ms|poll_next_p99_ms", false},
		rowSpec{"next: polling acks/s through next start ÷ direct", "next", "poll_next_ratio", true},
		// The slow scenario (only when asked for; rows without runs drop out).
		rowSpec{fmt.Sprintf("slow consumer, %s receivers at %d msg/s of %d-byte texts for %v: p50 / p99 without a stuck receiver (ms)",
			count(p.Receivers), p.SlowRate, p.SlowText, p.SlowStep), slowBase, "p50_ms|p99_ms", false},
		rowSpec{"slow consumer: p50 / p99 with 1 receiver that stopped reading (ms)", slowStuck, "p50_ms|p99_ms", false},
		rowSpec{"slow consumer: p99 with ÷ without the stuck receiver (paired by rep)", slowStuck, "p99_ratio", false},
		rowSpec{"slow consumer: loss without / with the stuck receiver (%)", slowStuck, slowBase + ":loss_pct|loss_pct", false},
		rowSpec{"slow consumer: server RSS growth over the step without / with the stuck receiver (MiB)", slowStuck,
			slowBase + ":rss_growth_mib|rss_growth_mib", false},
		rowSpec{"slow consumer: stuck receiver closed by the server (of 1)", slowStuck, "stuck_cut", false},
		rowSpec{fmt.Sprintf("slow consumer: cut off as slow_consumer (SOCKET_SEND_BUFFER=%d) / seconds into the step", p.SlowSendBuffer),
			slowStuck, "slow_consumer_drops|cut_after_s", false},
	)
	return specs
}

// count writes 1000 as 1k, 19500 as 19.5k.
func count(n int) string {
	if n >= 1000 && n%100 == 0 {
		return strconv.FormatFloat(float64(n)/1000, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(n)
}

// values gathers one metric over the repetitions of (scenario, server);
// a failed run or a missing metric counts as NaN.
func (r *Results) values(scenario, server, metric string) []float64 {
	var vs []float64
	for _, run := range r.Runs {
		if run.Scenario != scenario || run.Server != server {
			continue
		}
		v, ok := run.Metrics[metric]
		if !ok || run.Error != "" {
			v = math.NaN()
		}
		vs = append(vs, v)
	}
	return vs
}

// curve is one line of the chart.
type curve struct {
	Name   string
	Color  int // index into the palette
	Dashed bool
	Points [][2]float64 // rate, ms
}

func (r *Results) summarise() ([]Row, []curve) {
	var rows []Row
	for _, spec := range r.rowSpecs() {
		row := Row{Label: spec.label, Scenario: spec.scenario, Metric: spec.metric, Better: "lower",
			Cells: map[string]Spread{}, Ratio: map[string]float64{}}
		if spec.higher {
			row.Better = "higher"
		}
		for _, srv := range r.Plan.Servers {
			// A pair "a|b" is shown as "a / b"; its ratio is that of b. A
			// part "scenario:metric" reads another scenario's runs.
			for i, metric := range strings.Split(spec.metric, "|") {
				scenario := spec.scenario
				if sc, m, ok := strings.Cut(metric, ":"); ok {
					scenario, metric = sc, m
				}
				s, ok := spread(r.values(scenario, srv, metric))
				if !ok {
					continue
				}
				key := srv
				if i > 0 {
					key = srv + "|" + strconv.Itoa(i)
				}
				row.Cells[key] = s
			}
		}
		if len(row.Cells) == 0 {
			continue
		}
		ratioKey := func(srv string) string {
			if n := strings.Count(spec.metric, "|"); n > 0 {
				return srv + "|" + strconv.Itoa(n)
			}
			return srv
		}
		if node, ok := row.Cells[ratioKey(kindNode)]; ok && node.Median != 0 {
			for _, srv := range r.Plan.Servers {
				if c, ok := row.Cells[ratioKey(srv)]; ok && srv != kindNode {
					row.Ratio[srv] = c.Median / node.Median
				}
			}
		}
		rows = append(rows, row)
	}

	// The chart: per server, the median p50 and p99 at each rate over the
	// repetitions that reached that rate.
	var curves []curve
	for ci, srv := range r.Plan.Servers {
		byRate := map[int][2][]float64{}
		for _, run := range r.Runs {
			if run.Server != srv || run.Scenario != "broadcast" {
				continue
			}
			for _, st := range run.Steps {
				v := byRate[st.Rate]
				v[0] = append(v[0], st.P50)
				v[1] = append(v[1], st.P99)
				byRate[st.Rate] = v
			}
		}
		if len(byRate) == 0 {
			continue
		}
		rates := make([]int, 0, len(byRate))
		for k := range byRate {
			rates = append(rates, k)
		}
		slices.Sort(rates)
		p50 := curve{Name: srv + " p50", Color: ci, Dashed: true}
		p99 := curve{Name: srv + " p99", Color: ci}
		for _, rate := range rates {
			v := byRate[rate]
			a, _ := spread(v[0])
			b, _ := spread(v[1])
			p50.Points = append(p50.Points, [2]float64{float64(rate), a.Median})
			p99.Points = append(p99.Points, [2]float64{float64(rate), b.Median})
		}
		curves = append(curves, p99, p50)
	}
	return rows, curves
}

// num formats a figure with about three significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case v == math.Trunc(v) && a < 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

func cell(s Spread, reps int) string {
	t := num(s.Median)
	if len(s.Values) > 1 {
		t = fmt.Sprintf("%s (%s-%s)", num(s.Median), num(s.Min), num(s.Max))
	}
	if len(s.Values) < reps {
		t += fmt.Sprintf(" [%d of %d]", len(s.Values), reps)
	}
	return t
}

func (r *Results) markdown(rows []Row) string {
	var b strings.Builder
	var head, rule []string
	head = append(head, "metric")
	rule = append(rule, "---")
	for _, srv := range r.Plan.Servers {
		head = append(head, srv)
		rule = append(rule, "---")
		if srv != kindNode {
			head = append(head, "÷ node")
			rule = append(rule, "---")
		}
	}
	fmt.Fprintf(&b, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(rule, "|"))
	for _, row := range rows {
		cols := []string{row.Label}
		for _, srv := range r.Plan.Servers {
			txt := "-"
			if c, ok := row.Cells[srv]; ok {
				txt = cell(c, r.Plan.Reps)
				if c2, ok := row.Cells[srv+"|1"]; ok {
					txt += " / " + cell(c2, r.Plan.Reps)
				}
			}
			cols = append(cols, txt)
			if srv != kindNode {
				ratio := "-"
				if v, ok := row.Ratio[srv]; ok {
					ratio = strconv.FormatFloat(v, 'f', 2, 64) + "x"
				}
				cols = append(cols, ratio)
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cols, " | "))
	}
	loads := []float64{}
	for _, run := range r.Runs {
		loads = append(loads, run.Load1)
	}
	ls, _ := spread(loads)
	fmt.Fprintf(&b, "\nMedian (min-max) of %d interleaved repetitions; each run starts a fresh server. "+
		"Ratios are medians over Node's (for acks/s and rates higher is better, for the rest lower). ", r.Plan.Reps)
	if r.Pinned {
		b.WriteString("Servers pinned to CPU 0, the generator to CPU 1 (taskset). ")
	} else {
		b.WriteString("Not pinned. ")
	}
	fmt.Fprintf(&b, "1-minute load average at the runs' starts: %s (%s-%s); %s, %d CPUs, %d MiB, Linux %s, %s, Node %s.\n",
		num(ls.Median), num(ls.Min), num(ls.Max), r.Machine.CPU, r.Machine.CPUs, r.Machine.MemMiB, r.Machine.Kernel, r.Machine.Go, r.Machine.Node)
	var failed []string
	for _, run := range r.Runs {
		if run.Error != "" {
			failed = append(failed, fmt.Sprintf("%s on %s (rep %d): %s", run.Scenario, run.Server, run.Rep, firstLine(run.Error)))
		}
	}
	if len(failed) > 0 {
		b.WriteString("\nFailed runs (left out of the medians):\n")
		for _, f := range failed {
			b.WriteString("- " + f + "\n")
		}
	}
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

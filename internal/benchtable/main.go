// Command benchtable runs the benchmarks of fps next to their floors,
// "go test -bench ... -benchmem -count 1" -count times per package, and
// prints the table of ratios (medians) that BENCHMARKS.md shows.
//
// Usage (from the module root):
//
//	go run ./internal/benchtable [-count 5] [-benchtime 1s] [-cpu 1]
//
// -cpu is passed to the benchmarks of the fps package (signing and
// verification, one goroutine each), where one P takes the other core's
// work (GC, other processes) out of the figures; the round trips of
// ./fpstest always run with the default GOMAXPROCS, since client and
// simulator work at once.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// pair is one operation next to its floor.
type pair struct {
	pkg, op, floor string
	// target is the highest acceptable ratio of ns/op to the floor's.
	target float64
	note   string
}

var pairs = []pair{
	{".", "PipelineURL", "HMACSHA256Floor", 2, ""},
	{".", "PayRequestSign", "PayHMACFloor", 2, ""},
	{".", "VerifyIPNLocal", "RSASHA1Floor", 1.3, ""},
	{"./fpstest", "SimulatorPay/callers-1", "BareHTTP/callers-1", 2, "≥½ bare throughput"},
	{"./fpstest", "SimulatorPay/callers-8", "BareHTTP/callers-8", 2, "≥½ bare throughput"},
}

// result is the median of one benchmark's runs.
type result struct {
	ns, bytes, allocs float64
}

func main() {
	count := flag.Int("count", 3, "runs of each benchmark (the median is shown)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	cpu := flag.Int("cpu", 0, "go test -cpu for the fps package's benchmarks (0: the default GOMAXPROCS)")
	flag.Parse()
	results := map[string]result{}
	for _, pkg := range packages() {
		var names []string
		for _, p := range pairs {
			if p.pkg == pkg {
				names = append(names, top(p.op), top(p.floor))
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		re := "^(" + strings.Join(names, "|") + ")$"
		args := []string{"test", "-run", "^$", "-bench", re, "-benchmem", "-count", "1", "-benchtime", *benchtime}
		// With -cpu 1, go test adds no "-N" to the names.
		suffixed := true
		if pkg == "." && *cpu > 0 {
			args = append(args, "-cpu", strconv.Itoa(*cpu))
			suffixed = *cpu != 1
		}
		args = append(args, pkg)
		// One run of every benchmark per invocation, count times, rather
		// than -count: an operation and its floor then run seconds apart
		// rather than minutes, which matters on a shared machine whose load
		// drifts.
		var out bytes.Buffer
		for range *count {
			fmt.Fprintln(os.Stderr, "go", strings.Join(args, " "))
			cmd := exec.Command("go", args...)
			cmd.Stdout = io.MultiWriter(&out, os.Stderr)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "benchtable:", err)
				os.Exit(1)
			}
		}
		for name, r := range parse(&out, suffixed) {
			results[pkg+" "+name] = r
		}
	}
	fmt.Println("| operation | ns/op | floor | floor ns/op | ratio | target | allocs/op | B/op | floor allocs/op | floor B/op |")
	fmt.Println("|---|---:|---|---:|---:|---|---:|---:|---:|---:|")
	failed := false
	for _, p := range pairs {
		op, okOp := results[p.pkg+" "+p.op]
		fl, okFl := results[p.pkg+" "+p.floor]
		if !okOp || !okFl {
			fmt.Fprintf(os.Stderr, "benchtable: no result for %s or %s\n", p.op, p.floor)
			os.Exit(1)
		}
		ratio := op.ns / fl.ns
		mark := "met"
		if ratio > p.target {
			mark, failed = "MISSED", true
		}
		target := fmt.Sprintf("≤%.1f× %s", p.target, mark)
		if p.note != "" {
			target = fmt.Sprintf("≤%.1f× (%s) %s", p.target, p.note, mark)
		}
		fmt.Printf("| %s | %.0f | %s | %.0f | %.2f× | %s | %.0f | %.0f | %.0f | %.0f |\n",
			p.op, op.ns, p.floor, fl.ns, ratio, target, op.allocs, op.bytes, fl.allocs, fl.bytes)
	}
	if failed {
		os.Exit(3)
	}
}

func packages() []string {
	var pkgs []string
	for _, p := range pairs {
		if !slices.Contains(pkgs, p.pkg) {
			pkgs = append(pkgs, p.pkg)
		}
	}
	return pkgs
}

// top is the top-level benchmark of a sub-benchmark name.
func top(name string) string {
	t, _, _ := strings.Cut(name, "/")
	return "Benchmark" + t
}

var (
	line         = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	lineNoSuffix = regexp.MustCompile(`^Benchmark(\S+)\s+\d+\s+(.*)$`)
)

// parse returns the median ns/op, B/op and allocs/op of each benchmark in
// go test output; suffixed says whether names end in "-GOMAXPROCS".
func parse(r io.Reader, suffixed bool) map[string]result {
	re := line
	if !suffixed {
		re = lineNoSuffix
	}
	runs := map[string][]result{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var res result
		f := strings.Fields(m[2])
		for i := 1; i < len(f); i++ {
			v, err := strconv.ParseFloat(f[i-1], 64)
			if err != nil {
				continue
			}
			switch f[i] {
			case "ns/op":
				res.ns = v
			case "B/op":
				res.bytes = v
			case "allocs/op":
				res.allocs = v
			}
		}
		runs[m[1]] = append(runs[m[1]], res)
	}
	out := map[string]result{}
	for name, rs := range runs {
		out[name] = result{
			ns:     median(rs, func(r result) float64 { return r.ns }),
			bytes:  median(rs, func(r result) float64 { return r.bytes }),
			allocs: median(rs, func(r result) float64 { return r.allocs }),
		}
	}
	return out
}

func median(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

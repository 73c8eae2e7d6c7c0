package csvio

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
)

const benchRows = 100_000

// benchCSV is a typical export: an id, names, the address, a company and a city; with
// quoted, the company is a quoted field holding the delimiter.
func benchCSV(quoted bool) []byte {
	company := "Acme Inc."
	if quoted {
		company = `"Acme, Inc."`
	}
	var b bytes.Buffer
	b.WriteString("id,first_name,last_name,email,company,city\n")
	for i := range benchRows {
		fmt.Fprintf(&b, "%d,Jane,Doe,jane.doe%d@example.com,%s,Springfield\n", i, i, company)
	}
	return b.Bytes()
}

func benchList() []byte {
	var b bytes.Buffer
	for i := range benchRows {
		fmt.Fprintf(&b, "jane.doe%d@example.com\n", i)
	}
	return b.Bytes()
}

// BenchmarkReadWrite reads 100k rows and writes each with the ten result columns of
// docs/record.md, as `everify bulk --format csv` does; it reports ns and allocations per row.
func BenchmarkReadWrite(b *testing.B) {
	for _, in := range []struct {
		name string
		data []byte
	}{{"csv", benchCSV(false)}, {"csv-quoted", benchCSV(true)}, {"list", benchList()}} {
		b.Run(in.name, func(b *testing.B) {
			values := []string{"deliverable", "accepted", "", "false", "false", "true", "false", "", "mx1.example.com", "250"}
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(in.data), Options{})
				if err != nil {
					b.Fatal(err)
				}
				w := NewWriter(io.Discard, r.Delimiter(), r.BOM())
				w.WriteHeader(r.Header(), r.Fields(), resultNames)
				n := 0
				for {
					rec, err := r.Read()
					if err != nil {
						break
					}
					values[2] = rec.Address
					w.WriteRecord(rec, values)
					n++
				}
				w.Flush()
				if n != benchRows {
					b.Fatalf("%d rows", n)
				}
			}
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&ms1)
			rows := float64(b.N) * benchRows
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
			b.ReportMetric(float64(cpu)/rows, "cpu-ns/row")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/rows, "allocs/row")
		})
	}
}

// BenchmarkRead reads 100k rows without writing them.
func BenchmarkRead(b *testing.B) {
	data := benchCSV(true)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(); err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*benchRows), "ns/row")
	b.ReportMetric(float64(cpuTime()-cpu0)/(float64(b.N)*benchRows), "cpu-ns/row")
}

// BenchmarkCountLines measures the progress-total pre-pass.
func BenchmarkCountLines(b *testing.B) {
	data := benchCSV(false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CountLines(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

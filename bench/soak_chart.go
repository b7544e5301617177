package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
)

// soakChart draws one panel per series against time (minutes), each on its
// own linear scale from zero, with the chart helpers of chart.go.
func soakChart(ss []SoakSample) ([]byte, error) {
	series := []struct {
		name string
		f    func(SoakSample) float64
	}{
		{"SERVER RSS (MIB)", func(s SoakSample) float64 { return s.RSSMiB }},
		{"GOROUTINES", func(s SoakSample) float64 { return s.Goroutines }},
		{"OPEN FDS", func(s SoakSample) float64 { return s.FDs }},
		{"GC PAUSE P99 (MS, AT MOST)", func(s SoakSample) float64 { return s.GCP99Ms }},
		{"CHAT DELIVERY LATENCY P99 (MS)", func(s SoakSample) float64 { return s.LatP99 }},
	}
	const panelH, gap, w = 150, 40, chartW
	h := padT + len(series)*(panelH+gap) + 30
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fillRect(img, 0, 0, w, h, white)
	drawText(img, padL, 15, "SOCKSIDE SOAK: SERVER SAMPLES OVER TIME (MINUTES)", black)
	maxT := 1.0
	for _, s := range ss {
		maxT = math.Max(maxT, s.T/60)
	}
	x0, x1 := padL, w-padR
	for k, se := range series {
		top := padT + k*(panelH+gap)
		bot := top + panelH
		maxV := 0.0
		for _, s := range ss {
			if v := se.f(s); !math.IsNaN(v) {
				maxV = math.Max(maxV, v)
			}
		}
		if maxV == 0 {
			maxV = 1
		}
		maxV *= 1.1
		drawText(img, x0, top-14, se.name, palette[k%len(palette)])
		for _, q := range []float64{0, 0.5, 1} {
			y := bot - int(q*float64(panelH))
			hline(img, x0, x1, y, grey)
			lbl := num(q * maxV)
			drawText(img, x0-textWidth(lbl)-6, y-5, lbl, black)
		}
		vline(img, x0, top, bot, black)
		for m := 0.0; m <= maxT; m += math.Max(1, math.Round(maxT/10)) {
			x := x0 + int(m/maxT*float64(x1-x0))
			vline(img, x, bot, bot+4, black)
			lbl := fmt.Sprintf("%.0f", m)
			drawText(img, x-textWidth(lbl)/2, bot+7, lbl, black)
		}
		px, py := -1, -1
		for _, s := range ss {
			v := se.f(s)
			if math.IsNaN(v) {
				continue
			}
			x := x0 + int(s.T/60/maxT*float64(x1-x0))
			y := bot - int(v/maxV*float64(panelH))
			if px >= 0 {
				line(img, px, py, x, y, palette[k%len(palette)], false)
			}
			fillRect(img, x-2, y-2, x+3, y+3, palette[k%len(palette)])
			px, py = x, y
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

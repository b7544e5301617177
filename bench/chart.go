package main

// A small log-log line chart written with image/png alone: the one chart the
// bench draws did not justify adding gonum/plot (and its font, latex, pdf and
// svg modules) to a go.mod that the whole project shares. Text uses a 3x5
// pixel font defined below, drawn at 2x.

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"
	"strings"
)

var palette = []color.RGBA{
	{0x2e, 0x7d, 0x32, 0xff}, // green
	{0x15, 0x65, 0xc0, 0xff}, // blue
	{0xef, 0x6c, 0x00, 0xff}, // orange
	{0x6a, 0x1b, 0x9a, 0xff}, // purple
	{0xc6, 0x28, 0x28, 0xff}, // red
}

var (
	black = color.RGBA{0x20, 0x20, 0x20, 0xff}
	grey  = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

const (
	chartW, chartH = 960, 600
	padL, padR     = 90, 30
	padT, padB     = 50, 70
	textScale      = 2
)

// chartPNG draws the curves: x = rate (msg/s, log), y = latency (ms, log).
func chartPNG(title string, curves []curve) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	fillRect(img, 0, 0, chartW, chartH, white)

	var xs []float64
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, c := range curves {
		for _, p := range c.Points {
			if !slices.Contains(xs, p[0]) {
				xs = append(xs, p[0])
			}
			if p[1] > 0 {
				minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
			}
		}
	}
	slices.Sort(xs)
	if len(xs) == 0 || math.IsInf(minY, 0) {
		xs, minY, maxY = []float64{10, 100}, 1, 1000
	}
	x0, x1 := math.Log10(xs[0]/1.3), math.Log10(xs[len(xs)-1]*1.3)
	y0 := math.Floor(math.Log10(minY))
	y1 := math.Ceil(math.Log10(maxY))
	if y1 <= y0 {
		y1 = y0 + 1
	}
	plotL, plotR, plotT, plotB := padL, chartW-padR, padT, chartH-padB
	px := func(x float64) int {
		return plotL + int(math.Round((math.Log10(x)-x0)/(x1-x0)*float64(plotR-plotL)))
	}
	py := func(y float64) int {
		y = math.Max(y, math.Pow(10, y0))
		return plotB - int(math.Round((math.Log10(y)-y0)/(y1-y0)*float64(plotB-plotT)))
	}

	// Grid, ticks and labels.
	for e := y0; e <= y1; e++ {
		v := math.Pow(10, e)
		y := py(v)
		hline(img, plotL, plotR, y, grey)
		lbl := strconv.FormatFloat(v, 'f', -1, 64)
		if v < 1 {
			lbl = strconv.FormatFloat(v, 'g', -1, 64)
		}
		drawText(img, plotL-8-textWidth(lbl), y-5, lbl, black)
	}
	for _, x := range xs {
		xx := px(x)
		vline(img, xx, plotT, plotB, grey)
		lbl := strconv.FormatFloat(x, 'f', -1, 64)
		drawText(img, xx-textWidth(lbl)/2, plotB+8, lbl, black)
	}
	hline(img, plotL, plotR, plotB, black)
	vline(img, plotL, plotT, plotB, black)
	drawText(img, (plotL+plotR-textWidth(title))/2, 16, title, black)
	xl := "messages per second (log)"
	drawText(img, (plotL+plotR-textWidth(xl))/2, plotB+36, xl, black)
	drawText(img, 8, plotT-24, "latency ms (log)", black)

	// The ramp's p99 limit.
	if lim := 1000.0; lim >= math.Pow(10, y0) && lim <= math.Pow(10, y1) {
		line(img, plotL, py(lim), plotR, py(lim), palette[4], true)
		drawText(img, plotR-textWidth("p99 limit 1 s")-4, py(lim)-16, "p99 limit 1 s", palette[4])
	}

	// Curves and the legend.
	for i, c := range curves {
		col := palette[c.Color%len(palette)]
		for k := 1; k < len(c.Points); k++ {
			a, b := c.Points[k-1], c.Points[k]
			line(img, px(a[0]), py(a[1]), px(b[0]), py(b[1]), col, c.Dashed)
		}
		for _, p := range c.Points {
			fillRect(img, px(p[0])-3, py(p[1])-3, px(p[0])+4, py(p[1])+4, col)
		}
		// Bottom right: the curves rise to the top left as rates grow.
		lx, ly := plotR-300, plotB-14-(len(curves)-i)*18
		line(img, lx, ly+5, lx+36, ly+5, col, c.Dashed)
		drawText(img, lx+44, ly, c.Name, black)
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fillRect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws a 2-pixel line (Bresenham); dashed leaves gaps of 6 pixels.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, dashed bool) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for n := 0; ; n++ {
		if !dashed || (n/6)%2 == 0 {
			fillRect(img, x0, y0, x0+2, y0+2, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// glyphs is a 3x5 pixel font: five rows of three columns, '#' set.
var glyphs = map[rune]string{
	'0': "### #.# #.# #.# ###", '1': ".#. ##. .#. .#. ###", '2': "### ..# ### #.. ###",
	'3': "### ..# .## ..# ###", '4': "#.# #.# ### ..# ..#", '5': "### #.. ### ..# ###",
	'6': "### #.. ### #.# ###", '7': "### ..# ..# .#. .#.", '8': "### #.# ### #.# ###",
	'9': "### #.# ### ..# ###",
	'A': ".#. #.# ### #.# #.#", 'B': "##. #.# ##. #.# ##.", 'C': ".## #.. #.. #.. .##",
	'D': "##. #.# #.# #.# ##.", 'E': "### #.. ##. #.. ###", 'F': "### #.. ##. #.. #..",
	'G': ".## #.. #.# #.# .##", 'H': "#.# #.# ### #.# #.#", 'I': "### .#. .#. .#. ###",
	'J': "..# ..# ..# #.# .#.", 'K': "#.# #.# ##. #.# #.#", 'L': "#.. #.. #.. #.. ###",
	'M': "#.# ### ### #.# #.#", 'N': "##. #.# #.# #.# #.#", 'O': ".#. #.# #.# #.# .#.",
	'P': "##. #.# ##. #.. #..", 'Q': ".#. #.# #.# ##. .##", 'R': "##. #.# ##. #.# #.#",
	'S': ".## #.. .#. ..# ##.", 'T': "### .#. .#. .#. .#.", 'U': "#.# #.# #.# #.# ###",
	'V': "#.# #.# #.# #.# .#.", 'W': "#.# #.# ### ### #.#", 'X': "#.# #.# .#. #.# #.#",
	'Y': "#.# #.# .#. .#. .#.", 'Z': "### ..# .#. #.. ###",
	'.': "... ... ... ... .#.", ',': "... ... ... .#. #..", '-': "... ... ### ... ...",
	'/': "..# ..# .#. #.. #..", '(': ".#. #.. #.. #.. .#.", ')': ".#. ..# ..# ..# .#.",
	'%': "#.# ..# .#. #.. #.#", ':': "... .#. ... .#. ...", '=': "... ### ... ### ...",
	'>': "#.. .#. ..# .#. #..", '<': "..# .#. #.. .#. ..#", '+': "... .#. ### .#. ...",
	' ': "... ... ... ... ...",
}

func textWidth(s string) int { return len([]rune(s)) * 4 * textScale }

// drawText writes s (upper-cased) with its top-left corner at x, y.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs[' ']
		}
		for row, bits := range strings.Fields(g) {
			for col, b := range bits {
				if b == '#' {
					fillRect(img, x+col*textScale, y+row*textScale, x+(col+1)*textScale, y+(row+1)*textScale, c)
				}
			}
		}
		x += 4 * textScale
	}
}

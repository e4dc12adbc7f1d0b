package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"github.com/tollgate-mail/tollgate/classify"
)

// rocCurve is one engine's ROC curve for the plot.
type rocCurve struct {
	name   string
	points []classify.ROCPoint
}

// Plot geometry: the false-positive axis is logarithmic from 0.1 % to
// 100 %, because the region that matters for mail (well under 1 % of ham
// flagged) would be a few pixels wide on a linear axis.
const (
	rocW, rocH      = 720, 480
	rocLeft         = 60
	rocRight        = 20
	rocTop          = 20
	rocBottom       = 40
	rocMinFPR       = 1e-3
	rocFPTargetMark = 0.005
)

// rocColors are the curves' colours in order: built-in blue, rspamd
// orange, SpamAssassin green (docs/classifier.md says which is which).
var rocColors = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}}

// writeROC draws the curves as a PNG with the standard library only: grid
// lines at each decade of false-positive rate and each 10 % of recall,
// tick labels in a small bitmap font, and a dashed line at 0.5 %.
func writeROC(path string, curves []rocCurve) error {
	img := image.NewRGBA(image.Rect(0, 0, rocW, rocH))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	grid := color.RGBA{220, 220, 220, 255}
	axis := color.RGBA{60, 60, 60, 255}
	for _, f := range []float64{0.001, 0.01, 0.1, 1} {
		x := rocX(f)
		line(img, x, rocTop, x, rocH-rocBottom, grid)
		label := fmt.Sprintf("%g%%", 100*f)
		drawText(img, x-len(label)*2, rocH-rocBottom+8, label, axis)
	}
	for i := 0; i <= 10; i++ {
		y := rocY(float64(i) / 10)
		line(img, rocLeft, y, rocW-rocRight, y, grid)
		if i%2 == 0 {
			drawText(img, rocLeft-40, y-4, fmt.Sprintf("%d%%", 10*i), axis)
		}
	}
	for y := rocTop; y < rocH-rocBottom; y += 6 { // the false-positive target
		line(img, rocX(rocFPTargetMark), y, rocX(rocFPTargetMark), y+2, color.RGBA{150, 150, 150, 255})
	}
	line(img, rocLeft, rocH-rocBottom, rocW-rocRight, rocH-rocBottom, axis)
	line(img, rocLeft, rocTop, rocLeft, rocH-rocBottom, axis)
	for i, c := range curves {
		col := rocColors[i%len(rocColors)]
		px, py := -1, -1
		for _, p := range c.points {
			x, y := rocX(p.FPR), rocY(p.TPR)
			if px >= 0 {
				line(img, px, py, x, py, col) // a ROC curve is a staircase
				line(img, x, py, x, y, col)
			}
			px, py = x, y
		}
		// legend swatch, top right, in curve order
		fill(img, image.Rect(rocW-rocRight-60, rocTop+10+14*i, rocW-rocRight-20, rocTop+14+14*i), col)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func rocX(fpr float64) int {
	fpr = math.Max(fpr, rocMinFPR)
	frac := (math.Log10(fpr) - math.Log10(rocMinFPR)) / -math.Log10(rocMinFPR)
	return rocLeft + int(frac*float64(rocW-rocLeft-rocRight))
}

func rocY(tpr float64) int {
	return rocH - rocBottom - int(tpr*float64(rocH-rocTop-rocBottom))
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line draws a 2-pixel line (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		img.SetRGBA(x0+1, y0, c)
		img.SetRGBA(x0, y0+1, c)
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

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

func sign(a int) int {
	switch {
	case a > 0:
		return 1
	case a < 0:
		return -1
	}
	return 0
}

// glyphs is a 3×5 bitmap font for tick labels: the digits, '.' and '%'.
var glyphs = map[rune][5]string{
	'0': {"###", "#.#", "#.#", "#.#", "###"}, '1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"###", "..#", "###", "#..", "###"}, '3': {"###", "..#", "###", "..#", "###"},
	'4': {"#.#", "#.#", "###", "..#", "..#"}, '5': {"###", "#..", "###", "..#", "###"},
	'6': {"###", "#..", "###", "#.#", "###"}, '7': {"###", "..#", "..#", "..#", "..#"},
	'8': {"###", "#.#", "###", "#.#", "###"}, '9': {"###", "#.#", "###", "..#", "###"},
	'.': {"...", "...", "...", "...", ".#."}, '%': {"#.#", "..#", ".#.", "#..", "#.#"},
}

// drawText draws s at twice the glyph size (6×10 pixels a character).
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range s {
		g, ok := glyphs[r]
		if ok {
			for gy, row := range g {
				for gx, px := range row {
					if px == '#' {
						fill(img, image.Rect(x+2*gx, y+2*gy, x+2*gx+2, y+2*gy+2), c)
					}
				}
			}
		}
		x += 8
	}
}

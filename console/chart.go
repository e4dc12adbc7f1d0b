package console

import (
	"fmt"

	"github.com/tollgate-mail/tollgate/client"
)

// chart is a bar chart of daily volume with the spam and bulk part of each
// day marked, and the spam ratio as a line, drawn as inline SVG on the
// server: no script, nothing for the CSP to allow. A table with the same
// figures follows it for screen readers and for exact numbers.
type chart struct {
	Width, Height, Top, Bottom, Left int
	Bars                             []chartBar
	Ratio                            string // polyline points of the spam ratio
	MaxLabel                         string
	Days                             []client.DayStats
}

type chartBar struct {
	X, W, Y, H, SpamY, SpamH, RatioX, RatioY int
	Label, Title                             string
}

const (
	chartWidth  = 640
	chartHeight = 220
	chartTop    = 16
	chartBottom = 28 // room for the day labels
	chartLeft   = 44 // room for the volume axis
)

func newChart(days []client.DayStats) *chart {
	if len(days) == 0 {
		return nil
	}
	c := &chart{Width: chartWidth, Height: chartHeight, Top: chartTop, Bottom: chartHeight - chartBottom, Left: chartLeft, Days: days}
	var peak int64 = 1
	for _, d := range days {
		peak = max(peak, d.Messages)
	}
	c.MaxLabel = fmt.Sprint(peak)
	plot := c.Bottom - c.Top
	slot := (chartWidth - chartLeft) / len(days)
	for i, d := range days {
		h := int(int64(plot) * d.Messages / peak)
		sh := int(int64(plot) * min(d.SpamBulk(), d.Messages) / peak)
		ratio := 0.0
		if d.Messages > 0 {
			ratio = float64(d.SpamBulk()) / float64(d.Messages)
		}
		b := chartBar{X: chartLeft + i*slot + slot/6, W: slot * 2 / 3, Y: c.Bottom - h, H: h, SpamY: c.Bottom - sh, SpamH: sh,
			Label: d.Day.UTC().Format("02"),
			Title: fmt.Sprintf("%s: %d messages, %d spam or bulk (%.1f %%)", d.Day.UTC().Format("2006-01-02"), d.Messages, d.SpamBulk(), ratio*100)}
		b.RatioX, b.RatioY = b.X+b.W/2, c.Bottom-int(ratio*float64(plot))
		c.Ratio += fmt.Sprintf("%d,%d ", b.RatioX, b.RatioY)
		c.Bars = append(c.Bars, b)
	}
	return c
}

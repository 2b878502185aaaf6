package consensus

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestBFTLogger(t *testing.T) {
	long := strings.Repeat("x", 470_000)
	tests := []struct {
		name     string
		log      func(b *bftLogger)
		want     string // in the output
		maxBytes int
	}{
		{"short warn kept", func(b *bftLogger) { b.Warnf("view %d", 3) }, "view 3", 200},
		{"huge warn cut", func(b *bftLogger) { b.Warnf("got message %s", long) }, "(470012 bytes, cut)", maxLogMessage + 200},
		{"debug off: nothing", func(b *bftLogger) { b.Debugf("%s", long) }, "", 0},
		{"info is debug", func(b *bftLogger) { b.Infof("hello") }, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			b := &bftLogger{l: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))}
			tc.log(b)
			if !strings.Contains(out.String(), tc.want) || out.Len() > tc.maxBytes {
				t.Fatalf("logged %d bytes %.300q, want ≤ %d containing %q", out.Len(), out.String(), tc.maxBytes, tc.want)
			}
		})
	}
}

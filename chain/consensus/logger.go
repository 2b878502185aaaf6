package consensus

import (
	"context"
	"fmt"
	"log/slog"
)

// maxLogMessage caps one SmartBFT log message: SmartBFT formats whole
// protocol messages into some lines (a pre-prepare carries the block, up
// to BatchMaxBytes), which under load wrote lines of hundreds of KB.
const maxLogMessage = 1024

// bftLogger adapts slog to SmartBFT's Logger. SmartBFT logs a lot at info
// level; it is demoted to debug so a node's log stays readable. A message
// is formatted only if its level is enabled (SmartBFT's debug lines would
// otherwise cost their formatting on every message) and is cut to
// maxLogMessage bytes.
type bftLogger struct{ l *slog.Logger }

func (b *bftLogger) log(level slog.Level, f string, a []any) {
	if !b.l.Enabled(context.Background(), level) {
		return
	}
	b.l.Log(context.Background(), level, truncateLog(fmt.Sprintf(f, a...)), "src", "smartbft")
}

// truncateLog cuts msg to maxLogMessage bytes, saying how long it was.
func truncateLog(msg string) string {
	if len(msg) <= maxLogMessage {
		return msg
	}
	return fmt.Sprintf("%s… (%d bytes, cut)", msg[:maxLogMessage], len(msg))
}

func (b *bftLogger) Debugf(f string, a ...any) { b.log(slog.LevelDebug, f, a) }
func (b *bftLogger) Infof(f string, a ...any)  { b.log(slog.LevelDebug, f, a) }
func (b *bftLogger) Warnf(f string, a ...any)  { b.log(slog.LevelWarn, f, a) }
func (b *bftLogger) Errorf(f string, a ...any) { b.log(slog.LevelError, f, a) }
func (b *bftLogger) Panicf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	b.l.Error(truncateLog(msg), "src", "smartbft")
	panic(msg)
}

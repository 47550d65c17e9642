// Command ferretdb-test-server runs FerretDB (embedded, SQLite backend) for jitsync's MongoDB
// store tests. FerretDB's own cmd/ferretdb panics when built with `go install` because its
// generated version file is not part of the module; the embeddable package has no such need.
//
// It prints one line, `FERRETDB_READY <mongodb URI> <FerretDB version>`, once it accepts
// connections, and exits on SIGINT/SIGTERM or when its standard input closes (so a test run
// that dies does not leave it behind).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (required)")
	watchStdin := flag.Bool("exit-on-stdin-close", true, "exit when standard input reaches end of file")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	if *dataDir == "" {
		fatal("-data-dir is required")
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		fatal("cannot create data dir: %v", err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fatal("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/",
	})
	if err != nil {
		fatal("cannot start FerretDB: %v", err)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil {
			logger.Error("FerretDB stopped", "error", err)
		}
	}()

	// MongoDBURI waits until the listener is bound, so the line below means "ready".
	fmt.Printf("FERRETDB_READY %s %s\n", f.MongoDBURI(), ferretDBVersion())

	<-done
}

// ferretDBVersion reads the FerretDB module version from the build info: the embedded package
// reports "unknown" for its own version.
func ferretDBVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/FerretDB/FerretDB" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb-test-server: "+format+"\n", args...)
	os.Exit(1)
}

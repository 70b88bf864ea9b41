// Command ferretdb-embedded runs FerretDB 1.x (a MongoDB wire-protocol server, Apache-2.0)
// with its SQLite backend, for tests and offline runs on machines without mongod.
//
// `go install .../cmd/ferretdb` panics at start because that command reads a version file that
// is not part of the Go module; embedding the public `ferretdb` package in a main of our own
// avoids it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "directory for the SQLite files (required)")
	level := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	serialize := flag.Bool("serialize", true, "forward one command at a time, so single-document writes are atomic as in MongoDB (see serialize.go)")
	flag.Parse()

	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-embedded: -dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o700)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-embedded: data dir: %v\n", err)
		os.Exit(1)
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-embedded: bad -log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	listener := ferretdb.ListenerConfig{TCP: *listen}
	socket := filepath.Join(abs, "ferretdb.sock")
	if *serialize {
		_ = os.Remove(socket)
		listener = ferretdb.ListenerConfig{Unix: socket}
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-embedded: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan struct{})
	go func() {
		_ = f.Run(ctx)
		close(done)
	}()
	// MongoDBURI blocks until FerretDB's listener is bound.
	uri := f.MongoDBURI()

	if *serialize {
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb-embedded: listen %s: %v\n", *listen, err)
			os.Exit(1)
		}
		p := &serializingProxy{
			backend: func() (net.Conn, error) { return net.Dial("unix", socket) },
			logger:  logger,
		}
		go p.serve(l)
		go func() {
			<-ctx.Done()
			_ = l.Close()
		}()
		uri = "mongodb://" + l.Addr().String() + "/"
	}
	// Printing the URI signals readiness.
	fmt.Println(uri)
	<-done
}

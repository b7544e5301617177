package main

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/sockside/sockside/internal/tsgen"
	"github.com/sockside/sockside/namespaces"
)

// typesFile renders the event maps the demo namespaces declare
// (sockside.Handle, sockside.Emits) to name, a path inside the app, so the app type-checks
// against what the server really sends and accepts.
func typesFile(name, command string) (appFile, error) {
	name = path.Clean(filepath.ToSlash(name))
	if path.IsAbs(name) || strings.HasPrefix(name, "../") || !strings.HasSuffix(name, ".ts") {
		return appFile{}, fmt.Errorf("-types %s: want a .ts path inside the app, e.g. lib/socket-events.ts", name)
	}
	srv := namespaces.Declared()
	defer func() { _ = srv.Shutdown(context.Background()) }()
	src, err := tsgen.Render(generatedHeader(command, false)+"\n", tsgen.FromServer(srv))
	if err != nil {
		return appFile{}, fmt.Errorf("-types: %w", err)
	}
	return appFile{name, []byte(src)}, nil
}

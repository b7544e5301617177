package main

import (
	"fmt"
	"time"

	"github.com/sockside/sockside/rewrite"
)

// settings are what the generated files take from the server's
// configuration and the flags.
type settings struct {
	socketPath   string        // SOCKET_PATH
	target       string        // the server's URL, without a trailing slash
	pingInterval time.Duration // SOCKET_PING_INTERVAL
	pingTimeout  time.Duration // SOCKET_PING_TIMEOUT
	spawn        string        // -spawn: the server binary, from the app (or absolute); "" for none
	root         string        // nextconfig's working folder, from the app
	command      string        // the command line that regenerates the files
}

// plan is what nextconfig wants in the app.
type plan struct {
	files  []appFile // generated files, and a missing next.config to create
	wiring []wiring  // the app's own files that must use them
	wired  []string  // the app's own files that already do
}

// wiring is a file of the app's own that has to call into a generated one.
// nextconfig leaves it alone, except next.config with -write-config.
type wiring struct {
	file  appFile
	howto string // what to change, for the report
	// edit is the file with the change made, when the change is mechanical
	// and safe (-write-config applies it); nil otherwise.
	edit []byte
}

// The generated files' names, without extension.
const (
	pluginBase        = "with-socket-io"
	trailingSlashBase = "socket-io-trailing-slash"
	startBase         = "start-sockside"
	instrumentation   = "instrumentation"
)

// makePlan renders the model for app: the config plugin (and a next.config
// when the app has none), the trailing-slash helper and a middleware/proxy
// that calls it, and with -spawn the server starter and an instrumentation
// file that calls it. Where the app has a file of its own in a hook's
// place, the plan wires it instead of writing one.
func makePlan(app nextApp, s settings) (plan, error) {
	var p plan
	v := app.version
	ext := app.ext()

	configName := "next.config.mjs"
	if app.typeScript && v.TypeScriptConfig() {
		configName = "next.config.ts"
	}
	if app.config != nil {
		configName = app.config.name
		if err := checkConflicts(*app.config, s.socketPath); err != nil {
			return p, fmt.Errorf("%s: %w", app.show(app.config.name), err)
		}
	}
	plug := pluginFor(configName, app.esm)
	p.files = append(p.files, pluginFile(plug, v, s))
	switch {
	case app.config == nil:
		p.files = append(p.files, appFile{configName, render("next-config", view{
			Header: createdHeader(s.command), TS: plug.ts, PluginImport: plug.importLine(),
			Export: targetComment + "\n" + plug.exportPrefix() + wrapCall("nextConfig") + ";",
		})})
	case plug.wired(app.config.data):
		p.wired = append(p.wired, app.config.name)
	default:
		p.wiring = append(p.wiring, configWiring(*app.config, plug))
	}

	// Next 16 still runs a middleware file: the app's own counts under
	// either name, and the one to write is the first.
	hooks := v.RequestHooks()
	var names []string
	for _, h := range hooks {
		names = append(names, withExts(app.hookDir, h, sourceExts)...)
	}
	own, err := app.findOwn(names...)
	if err != nil {
		return p, err
	}
	hook := hooks[0]
	if own != nil {
		hook = baseName(own.name)
	}
	p.files = append(p.files, trailingSlashFile(app, s, hook))
	switch {
	case own == nil:
		p.files = append(p.files, appFile{pathJoin(app.hookDir, hook+"."+ext), render("hook", view{
			Header: generatedHeader(s.command, true), TS: app.typeScript, Hook: hook, Matcher: rewrite.Matcher(s.socketPath),
		})})
	case contains(own.data, "socketIOTrailingSlash("):
		p.wired = append(p.wired, own.name)
	default:
		p.wiring = append(p.wiring, wiring{file: *own, howto: hookHowto(hook, s.socketPath, v)})
	}

	if s.spawn == "" {
		return p, nil
	}
	p.files = append(p.files, appFile{pathJoin(app.hookDir, startBase+"."+ext), render("start-sockside", view{
		Header: generatedHeader(s.command, false), TS: app.typeScript, Root: s.root, Spawn: s.spawn,
	})})
	own, err = app.findOwn(withExts(app.hookDir, instrumentation, sourceExts)...)
	switch {
	case err != nil:
		return p, err
	case own == nil:
		p.files = append(p.files, appFile{pathJoin(app.hookDir, instrumentation+"."+ext), render("instrumentation", view{
			Header: generatedHeader(s.command, true), TS: app.typeScript,
		})})
	case contains(own.data, "startSockside("):
		p.wired = append(p.wired, own.name)
	default:
		p.wiring = append(p.wiring, wiring{file: *own, howto: instrumentationHowto})
	}
	return p, nil
}

// devOrigins reports whether Next v reads allowedDevOrigins (stable in
// 15.2.3, backported to 14.2.30), which withSocketIO then adds 127.0.0.1
// and localhost to; older releases warn about the key.
func devOrigins(v rewrite.Version) bool {
	switch v.Major {
	case 14:
		return v.Compare(rewrite.Version{Major: 14, Minor: 2, Patch: 30}) >= 0
	case 15:
		return v.Compare(rewrite.Version{Major: 15, Minor: 2, Patch: 3}) >= 0
	}
	return v.Major > 15
}

// pluginFile renders withSocketIO for Next version v.
func pluginFile(plug plugin, v rewrite.Version, s settings) appFile {
	pv := view{
		Header:              generatedHeader(s.command, false),
		TS:                  plug.ts,
		CJS:                 plug.cjs,
		SocketPath:          s.socketPath,
		Target:              s.target,
		InstrumentationHook: s.spawn != "" && v.InstrumentationFlag(),
		DevOrigins:          devOrigins(v),
	}
	for _, r := range rewrite.Rules(s.socketPath, s.target) {
		pv.Sources = append(pv.Sources, r.Source)
	}
	if t := rewrite.ProxyTimeout(s.pingInterval, s.pingTimeout); t > 0 {
		pv.ProxyTimeoutMS = t.Milliseconds()
		pv.ProxyTimeoutWhy = fmt.Sprintf("The server holds a long-poll up to SOCKET_PING_INTERVAL=%s, longer than Next's\n// proxy waits by default (%s); this allows for SOCKET_PING_TIMEOUT=%s too.",
			s.pingInterval, rewrite.NextProxyTimeout, s.pingTimeout)
	}
	return appFile{plug.name, render("plugin", pv)}
}

// trailingSlashFile renders socketIOTrailingSlash for the app, to be
// called from its hook (middleware or proxy).
func trailingSlashFile(app nextApp, s settings, hook string) appFile {
	return appFile{pathJoin(app.hookDir, trailingSlashBase+"."+app.ext()), render("trailing-slash", view{
		Header: generatedHeader(s.command, false), TS: app.typeScript, SocketPath: s.socketPath, Hook: hook,
	})}
}

// findOwn is find for files the app wrote itself: a file nextconfig
// generated (perhaps for another Next version) is not one.
func (app nextApp) findOwn(names ...string) (*appFile, error) {
	for _, name := range names {
		f, err := app.read(name)
		if err != nil {
			return nil, err
		}
		if f != nil && !generatedBy(f.data) {
			return f, nil
		}
	}
	return nil, nil
}

// ownedNames lists every file an earlier run may have generated, for any
// Next version, language and layout: those no longer planned are removed.
func ownedNames() []string {
	var names []string
	for _, dir := range []string{"", "src"} {
		for _, base := range []string{pluginBase, trailingSlashBase, startBase, instrumentation, "middleware", "proxy"} {
			names = append(names, withExts(dir, base, []string{"js", "mjs", "cjs", "ts", "tsx", "jsx"})...)
		}
	}
	return names
}

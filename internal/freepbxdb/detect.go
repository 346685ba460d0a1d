package freepbxdb

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb/facts"
)

// Detect reads, with SELECTs only, what `pbxwatch init` needs of the
// FreePBX host whose filesystem is under root: where its database is, the
// framework and api modules, some Advanced Settings, the api module's
// applications. Every problem is reported in the facts, never as a crash.
func Detect(ctx context.Context, root string) facts.Facts {
	var f facts.Facts
	conf, err := ReadConf(filepath.Join(root, facts.ConfPath))
	if err != nil {
		f.ConfError, f.ConfMissing = err.Error(), errors.Is(err, fs.ErrNotExist)
		return f
	}
	f.Database = &facts.Database{Name: conf.Name, Host: conf.Host, Port: conf.Port, Socket: conf.Socket}
	if err := readFacts(ctx, root, &f); err != nil {
		f.DatabaseError = err.Error()
	}
	return f
}

func readFacts(ctx context.Context, root string, f *facts.Facts) error {
	db, err := Source{ConfPath: facts.ConfPath, Root: root}.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	fw, err := db.Module(ctx, "framework")
	if err != nil {
		return err
	}
	f.Framework = moduleFacts(fw)
	if f.Settings, err = db.Settings(ctx, facts.SettingKeys...); err != nil {
		return err
	}
	api, err := db.Module(ctx, "api")
	if err != nil {
		return err
	}
	f.API = moduleFacts(api)
	f.API.AcceptsAnySecret = AcceptsAnySecret(api.Version)
	f.DatabaseRead = true
	if !api.Installed {
		return nil
	}
	apps, err := db.Applications(ctx)
	if err != nil {
		return err
	}
	for _, a := range apps {
		f.Applications = append(f.Applications, facts.Application{ID: a.ID, Name: a.Name, GrantType: a.GrantType,
			ClientID: a.ClientID, Scopes: a.EffectiveScopes()})
	}
	return nil
}

func moduleFacts(m Module) facts.Module {
	return facts.Module{Installed: m.Installed, Enabled: m.Enabled, Version: m.Version}
}

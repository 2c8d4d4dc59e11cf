package pgstore

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one version of the store's schema, as SQL: what Migrate
// runs, for an application that applies migrations with its own tool.
type Migration struct {
	// Version numbers the migrations from 1, in the order they apply.
	Version int
	// Name is the migration's file name, such as "0001_init.sql".
	Name string
	// SQL creates or upgrades the schema from the previous version, and
	// records Version in the store's migrations table (creating it, and
	// the schema named by WithSchema, when absent). Run it in one
	// transaction.
	SQL string
}

// SchemaVersion is the schema version this release of the store needs:
// the Version of the last Migration.
const SchemaVersion = 4

// names are the store's qualified SQL names, for the migration templates
// and the queries.
type names struct {
	Schema                                  string // quoted, or "" for the search path
	Records, Counters, Versions, Migrations string // qualified, quoted
	VersionsName                            string // Versions as a string literal's content
	RecordsExpires, CountersReset           string // index names (in the tables' schema)
	CAS, CAD, Take, Release                 string // functions, qualified
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// maxIdent is PostgreSQL's identifier length; the longest name the store
// adds to its prefix is "records_expires" (15 bytes).
const maxIdent = 63 - 15

func newNames(schema, prefix string) (names, error) {
	if schema != "" && (!identRE.MatchString(schema) || len(schema) > 63) {
		return names{}, fmt.Errorf("pgstore: schema name %q: want lower-case letters, digits and _, not starting with a digit", schema)
	}
	if prefix != "" && (!identRE.MatchString(prefix) || len(prefix) > maxIdent) {
		return names{}, fmt.Errorf("pgstore: table prefix %q: want at most %d lower-case letters, digits and _, not starting with a digit", prefix, maxIdent)
	}
	q := func(n string) string {
		if schema == "" {
			return `"` + prefix + n + `"`
		}
		return `"` + schema + `"."` + prefix + n + `"`
	}
	n := names{
		Records: q("records"), Counters: q("counters"), Versions: q("versions"), Migrations: q("migrations"),
		RecordsExpires: `"` + prefix + `records_expires"`, CountersReset: `"` + prefix + `counters_reset"`,
		CAS: q("cas"), CAD: q("cad"), Take: q("take"), Release: q("release"),
	}
	n.VersionsName = n.Versions
	if schema != "" {
		n.Schema = `"` + schema + `"`
	}
	return n, nil
}

// Migrations returns the store's schema migrations, in order, for the
// schema and table prefix that opts name (WithSchema, WithTablePrefix;
// other options are ignored), so that an application can print them and
// apply them with its own migration tool instead of Migrate.
func Migrations(opts ...Option) ([]Migration, error) {
	s, err := configure(opts)
	if err != nil {
		return nil, err
	}
	return migrations(s.n)
}

func migrations(n names) ([]Migration, error) {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out []Migration
	for _, e := range ents {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != len(out)+1 {
			return nil, fmt.Errorf("pgstore: migration %s out of sequence", e.Name())
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(e.Name()).Option("missingkey=error").Parse(string(body))
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "-- verifykit pgstore migration %d (%s)\n", v, e.Name())
		if n.Schema != "" {
			fmt.Fprintf(&b, "CREATE SCHEMA IF NOT EXISTS %s;\n", n.Schema)
		}
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());\n\n", n.Migrations)
		if err := tmpl.Execute(&b, n); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\nINSERT INTO %s (version) VALUES (%d);\n", n.Migrations, v)
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: b.String()})
	}
	if len(out) != SchemaVersion {
		return nil, fmt.Errorf("pgstore: %d migrations embedded, want %d", len(out), SchemaVersion)
	}
	return out, nil
}

// Migrate creates the store's schema, or upgrades it to SchemaVersion, in
// one transaction. Replicas may call it at once at start-up: a
// transaction-scoped advisory lock makes them apply each migration once.
// A schema newer than this release knows is left alone and is an error.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations(s.n)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "verifykit/pgstore migrate "+s.n.Migrations); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	var have int
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.n.Migrations).Scan(&exists); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if exists {
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+s.n.Migrations).Scan(&have); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
	}
	if have > SchemaVersion {
		return fmt.Errorf("pgstore: migrate: the schema is at version %d, newer than this release's %d", have, SchemaVersion)
	}
	for _, m := range ms[have:] {
		// The simple protocol runs a multi-statement script.
		if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("pgstore: migrate: %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

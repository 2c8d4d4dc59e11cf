package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/verifykit/verifykit/internal/batch"
)

// query is a one-row statement, where its row goes, and its error.
type query struct {
	q    string
	args []any
	dest []any
	err  error
}

// errAbandoned is the error of a statement whose pipeline's sender
// panicked: it may have run.
var errAbandoned = errors.New("pgstore: the pipeline's sender panicked")

// inFlight is how many statements or pipelines the store has in flight,
// each on its own connection, before statements wait to go out together.
const inFlight = 8

// batcher sends the statements of calls made while inFlight round trips
// are in flight together, as one pipeline on one connection, when one ends
// (see package batch). Each statement is followed by its own Sync, so it
// is a transaction of its own, as when sent alone: an error ends only its
// own. Failures stay exact: a pipeline that could not be written fails
// every statement in it (pgconn tells whether any was sent), and one whose
// answers stop coming fails the statements whose answers were not read.
// A caller whose context ends while its statement's pipeline is in flight
// returns at once (ErrInFlight: ErrOutcomeUnknown for a write), so a
// statement's arguments are the store's own (CompareAndSwap copies the
// caller's value).
func (s *Store) batcher() batch.Batcher[*query] {
	return batch.Batcher[*query]{
		Max:       inFlight,
		One:       func(ctx context.Context, q *query) { q.err = s.rowNow(ctx, q.q, q.args, q.dest...) },
		Many:      s.pipeline,
		Abandoned: func(q *query) { q.err = errAbandoned },
	}
}

// row runs the one-row statement q, alone or in a pipeline, and scans its
// row into dest. A statement never sent is marked errNotSent.
func (s *Store) row(ctx context.Context, q string, args []any, dest ...any) error {
	k := &query{q: q, args: args, dest: dest}
	if err := s.b.Do(ctx, k); err != nil {
		if errors.Is(err, batch.ErrQueued) {
			return fmt.Errorf("%w: %w", errNotSent, err)
		}
		return err
	}
	return k.err
}

// pipeline runs qs on one connection in one round trip (after preparing
// those of them that were not yet prepared on it).
func (s *Store) pipeline(ctx context.Context, qs []*query) {
	failAll := func(qs []*query, err error) {
		for _, q := range qs {
			q.err = err
		}
	}
	c, err := s.acquire(ctx)
	if err != nil {
		failAll(qs, err)
		return
	}
	defer c.Release()
	conn := c.Conn()
	sds := make([]*pgconn.StatementDescription, len(qs))
	for i, q := range qs {
		if sds[i], err = conn.Prepare(ctx, q.q, q.q); err != nil {
			failAll(qs, fmt.Errorf("%w: %w", errNotSent, err)) // preparing runs nothing
			return
		}
	}
	p := conn.PgConn().StartPipeline(ctx)
	var eqb pgx.ExtendedQueryBuilder
	sent := qs[:0:0]
	for i, q := range qs {
		if err := eqb.Build(conn.TypeMap(), sds[i], q.args); err != nil {
			q.err = fmt.Errorf("%w: %w", errNotSent, err)
			continue
		}
		p.SendQueryStatement(sds[i], eqb.ParamValues, eqb.ParamFormats, slices.Clone(eqb.ResultFormats))
		p.SendPipelineSync()
		sent = append(sent, q)
	}
	if err := p.Flush(); err != nil {
		failAll(sent, err)
		_ = p.Close()
		return
	}
read:
	for i, q := range sent {
		res, err := p.GetResults()
		var pe *pgconn.PgError
		rr, ok := res.(*pgconn.ResultReader)
		switch {
		case ok:
			q.err = scan(conn, rr, q.dest)
		case errors.As(err, &pe): // this statement's own answer
			q.err = err
		default:
			if err == nil {
				err = fmt.Errorf("pgstore: unexpected pipeline result %T", res)
			}
			failAll(sent[i:], err)
			break read
		}
		if _, err := p.GetResults(); err != nil { // the statement's Sync
			failAll(sent[i+1:], err)
			break
		}
	}
	_ = p.Close()
}

// scan scans the one row of rr into dest, as pgx.Row's Scan does.
func scan(conn *pgx.Conn, rr *pgconn.ResultReader, dest []any) error {
	var err error
	if rr.NextRow() {
		fds := rr.FieldDescriptions()
		vals := rr.Values()
		if len(fds) != len(dest) {
			err = fmt.Errorf("pgstore: %d columns for %d destinations", len(fds), len(dest))
		}
		for i := 0; err == nil && i < len(dest); i++ {
			err = conn.TypeMap().Scan(fds[i].DataTypeOID, fds[i].Format, vals[i], dest[i])
		}
	} else {
		err = pgx.ErrNoRows
	}
	if _, cerr := rr.Close(); cerr != nil {
		return cerr
	}
	return err
}

-- verifykit store schema, version 1: records, counters, the version
-- sequence, and the functions that make a compare-and-swap, a
-- compare-and-delete, a limiter Take and a Release one round trip each.
-- Durations are passed in microseconds. Keys are bytea (any Go string).

CREATE TABLE {{.Records}} (
	key     bytea PRIMARY KEY,
	version bigint NOT NULL,
	value   bytea NOT NULL,
	expires timestamptz NOT NULL
);
CREATE INDEX {{.RecordsExpires}} ON {{.Records}} (expires);

CREATE TABLE {{.Counters}} (
	key   bytea PRIMARY KEY,
	n     bigint NOT NULL,
	reset timestamptz NOT NULL
);
CREATE INDEX {{.CountersReset}} ON {{.Counters}} (reset);

-- Record versions: never reused, so a record deleted and created again
-- never matches a stale version.
CREATE SEQUENCE {{.Versions}} AS bigint;

-- cas: store p_value at p_key if the live record's version is p_old (0:
-- absent or expired). o_ok tells; when false, o_version and o_value are the
-- live record (0 and NULL when absent).
CREATE FUNCTION {{.CAS}}(p_key bytea, p_old bigint, p_value bytea, p_ttl_us bigint,
	OUT o_ok boolean, OUT o_version bigint, OUT o_value bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_live boolean;
BEGIN
	LOOP
		SELECT r.version, r.value, r.expires > now() INTO o_version, o_value, v_live
			FROM {{.Records}} r WHERE r.key = p_key FOR UPDATE;
		IF NOT FOUND THEN
			IF p_old <> 0 THEN
				o_ok := false; o_version := 0; o_value := NULL;
				RETURN;
			END IF;
			INSERT INTO {{.Records}} AS r (key, version, value, expires)
				VALUES (p_key, nextval('{{.VersionsName}}'), p_value, now() + p_ttl_us * interval '1 microsecond')
				ON CONFLICT (key) DO NOTHING
				RETURNING r.version INTO o_version;
			IF FOUND THEN
				o_ok := true; o_value := NULL;
				RETURN;
			END IF;
			-- Created by another transaction meanwhile: read it again.
			CONTINUE;
		END IF;
		IF NOT v_live THEN
			o_version := 0; o_value := NULL;
		END IF;
		IF o_version <> p_old THEN
			o_ok := false;
			RETURN;
		END IF;
		UPDATE {{.Records}} r
			SET version = nextval('{{.VersionsName}}'), value = p_value, expires = now() + p_ttl_us * interval '1 microsecond'
			WHERE r.key = p_key
			RETURNING r.version INTO o_version;
		o_ok := true; o_value := NULL;
		RETURN;
	END LOOP;
END
$$;

-- cad: delete the live record at p_key if its version is p_old. When it is
-- not, o_version and o_value are the live record (0 and NULL when absent).
CREATE FUNCTION {{.CAD}}(p_key bytea, p_old bigint,
	OUT o_ok boolean, OUT o_version bigint, OUT o_value bytea)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT r.version, r.value INTO o_version, o_value
		FROM {{.Records}} r WHERE r.key = p_key AND r.expires > now() FOR UPDATE;
	IF NOT FOUND THEN
		o_ok := false; o_version := 0; o_value := NULL;
		RETURN;
	END IF;
	IF o_version <> p_old THEN
		o_ok := false;
		RETURN;
	END IF;
	DELETE FROM {{.Records}} r WHERE r.key = p_key;
	o_ok := true; o_version := 0; o_value := NULL;
END
$$;

-- take: count one hit on every limit unless one refuses it. Limit i has
-- key p_keys[i], budget p_max[i], window p_window_us[i] and, when a
-- cooldown, p_nwaits[i] waits, which follow those of the limits before it
-- in p_waits_us. o_refused is -1 when taken, else the 0-based index of the
-- refusing limit with the longest wait, o_wait_us.
CREATE FUNCTION {{.Take}}(p_keys bytea[], p_max bigint[], p_window_us bigint[], p_nwaits int[], p_waits_us bigint[],
	OUT o_refused int, OUT o_wait_us bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := now();
	nk int := cardinality(p_keys);
	cur_n bigint[] := array_fill(0::bigint, ARRAY[nk]);
	cur_reset timestamptz[] := array_fill('-infinity'::timestamptz, ARRAY[nk]);
	first_wait int[] := array_fill(0, ARRAY[nk]);
	rec record;
	i int;
	off int := 1;
	w bigint;
BEGIN
	-- Lock every counter in key order (so that Takes never deadlock), the
	-- absent ones created as expired placeholders, and read them.
	FOR rec IN
		INSERT INTO {{.Counters}} AS c (key, n, reset)
			SELECT k, 0, '-infinity' FROM unnest(p_keys) AS k ORDER BY k
			ON CONFLICT (key) DO UPDATE SET n = c.n
			RETURNING c.key, c.n, c.reset
	LOOP
		i := array_position(p_keys, rec.key);
		cur_n[i] := rec.n;
		cur_reset[i] := rec.reset;
	END LOOP;
	o_refused := -1; o_wait_us := 0;
	FOR i IN 1..nk LOOP
		first_wait[i] := off;
		off := off + p_nwaits[i];
		IF cur_reset[i] <= t THEN
			cur_n[i] := 0;
			CONTINUE;
		END IF;
		w := 0;
		IF p_nwaits[i] > 0 THEN
			w := (extract(epoch FROM cur_reset[i] - t) * 1000000)::bigint - p_window_us[i];
		ELSIF cur_n[i] >= p_max[i] THEN
			w := (extract(epoch FROM cur_reset[i] - t) * 1000000)::bigint;
		END IF;
		IF w > 0 AND w > o_wait_us THEN
			o_refused := i - 1; o_wait_us := w;
		END IF;
	END LOOP;
	IF o_refused >= 0 THEN
		RETURN;
	END IF;
	FOR i IN 1..nk LOOP
		cur_n[i] := cur_n[i] + 1;
		IF p_nwaits[i] > 0 THEN
			cur_reset[i] := t + (p_waits_us[first_wait[i] + least(cur_n[i], p_nwaits[i]) - 1] + p_window_us[i]) * interval '1 microsecond';
		ELSIF cur_n[i] = 1 THEN
			cur_reset[i] := t + p_window_us[i] * interval '1 microsecond';
		END IF;
	END LOOP;
	UPDATE {{.Counters}} c SET n = v.n, reset = v.reset
		FROM unnest(p_keys, cur_n, cur_reset) AS v(key, n, reset)
		WHERE c.key = v.key;
END
$$;

-- release: give back one hit of every live counter: a budget's count goes
-- down by one, a cooldown goes back one step with its wait lifted (it
-- resets p_window_us from now); a count that reaches 0 is deleted.
CREATE FUNCTION {{.Release}}(p_keys bytea[], p_cooldown boolean[], p_window_us bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := now();
BEGIN
	-- Lock in key order, as take does.
	PERFORM 1 FROM {{.Counters}} c WHERE c.key = ANY (p_keys) ORDER BY c.key FOR UPDATE;
	DELETE FROM {{.Counters}} c WHERE c.key = ANY (p_keys) AND c.reset > t AND c.n <= 1;
	UPDATE {{.Counters}} c
		SET n = c.n - 1,
			reset = CASE WHEN v.cooldown THEN t + v.window_us * interval '1 microsecond' ELSE c.reset END
		FROM unnest(p_keys, p_cooldown, p_window_us) AS v(key, cooldown, window_us)
		WHERE c.key = v.key AND c.reset > t AND c.n > 1;
END
$$;

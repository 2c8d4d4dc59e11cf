-- verifykit store schema, version 4: weighted limits. A budget's hit
-- counts its cost (store.Limit.Cost, 0 meaning 1) against its Max, and a
-- Release gives that cost back; take reports every counter's value after
-- the hit (store.Limit.Count).

DROP FUNCTION {{.Take}}(bytea[], bigint[], bigint[], int[], bigint[]);
DROP FUNCTION {{.Release}}(bytea[], boolean[], bigint[], bigint[]);

-- take: count one hit on every limit unless one refuses it. Limit i has
-- key p_keys[i], budget p_max[i], weight p_cost[i] (1 for a cooldown),
-- window p_window_us[i] and, when a cooldown, p_nwaits[i] waits, which
-- follow those of the limits before it in p_waits_us. o_refused is -1 when
-- taken, with the hit in o_hit and the counters after it in o_counts; else
-- the 0-based index of the refusing limit with the longest wait, o_wait_us.
-- A budget hit that costs more than its Max waits its whole window.
CREATE FUNCTION {{.Take}}(p_keys bytea[], p_max bigint[], p_cost bigint[], p_window_us bigint[], p_nwaits int[], p_waits_us bigint[],
	OUT o_refused int, OUT o_wait_us bigint, OUT o_hit bigint, OUT o_counts bigint[])
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := now();
	nk int := cardinality(p_keys);
	cur_n bigint[] := array_fill(0::bigint, ARRAY[nk]);
	cur_reset timestamptz[] := array_fill('-infinity'::timestamptz, ARRAY[nk]);
	cur_hit bigint[] := array_fill(0::bigint, ARRAY[nk]);
	first_wait int[] := array_fill(0, ARRAY[nk]);
	rec record;
	i int;
	off int := 1;
	w bigint;
	first boolean;
BEGIN
	-- Lock every counter in key order (so that Takes never deadlock), the
	-- absent ones created as expired placeholders, and read them.
	FOR rec IN
		INSERT INTO {{.Counters}} AS c (key, n, reset)
			SELECT k, 0, '-infinity' FROM unnest(p_keys) AS k ORDER BY k
			ON CONFLICT (key) DO UPDATE SET n = c.n
			RETURNING c.key, c.n, c.reset, c.hit
	LOOP
		i := array_position(p_keys, rec.key);
		cur_n[i] := rec.n;
		cur_reset[i] := rec.reset;
		cur_hit[i] := rec.hit;
	END LOOP;
	o_refused := -1; o_wait_us := 0; o_hit := 0;
	FOR i IN 1..nk LOOP
		first_wait[i] := off;
		off := off + p_nwaits[i];
		IF cur_reset[i] <= t THEN
			cur_n[i] := 0;
			cur_hit[i] := 0;
		END IF;
		w := 0;
		IF p_nwaits[i] > 0 THEN
			IF cur_n[i] > 0 THEN
				w := (extract(epoch FROM cur_reset[i] - t) * 1000000)::bigint - p_window_us[i];
			END IF;
		ELSIF cur_n[i] + p_cost[i] > p_max[i] THEN
			IF cur_n[i] > 0 THEN
				w := (extract(epoch FROM cur_reset[i] - t) * 1000000)::bigint;
			ELSE
				w := p_window_us[i];
			END IF;
		END IF;
		IF w > 0 AND w > o_wait_us THEN
			o_refused := i - 1; o_wait_us := w;
		END IF;
	END LOOP;
	IF o_refused >= 0 THEN
		RETURN;
	END IF;
	o_hit := nextval('{{.VersionsName}}');
	FOR i IN 1..nk LOOP
		first := cur_n[i] = 0;
		IF p_nwaits[i] > 0 THEN
			cur_n[i] := cur_n[i] + 1;
			cur_reset[i] := t + (p_waits_us[first_wait[i] + least(cur_n[i], p_nwaits[i]) - 1] + p_window_us[i]) * interval '1 microsecond';
			cur_hit[i] := o_hit;
		ELSE
			cur_n[i] := cur_n[i] + p_cost[i];
			IF first THEN
				cur_reset[i] := t + p_window_us[i] * interval '1 microsecond';
				cur_hit[i] := o_hit;
			END IF;
		END IF;
	END LOOP;
	UPDATE {{.Counters}} c SET n = v.n, reset = v.reset, hit = v.hit
		FROM unnest(p_keys, cur_n, cur_reset, cur_hit) AS v(key, n, reset, hit)
		WHERE c.key = v.key;
	o_counts := cur_n;
END
$$;

-- release: give back, on every live counter, the hit p_hit[i] names: a
-- budget's count goes down by the hit's weight p_cost[i] while the window
-- it was taken in lasts (the window's first hit is at most p_hit[i]); a
-- cooldown goes back one step with its wait lifted (it resets p_window_us
-- from now) while the hit is its last. A count that reaches 0 is deleted.
-- Hit 0 gives nothing back.
CREATE FUNCTION {{.Release}}(p_keys bytea[], p_cooldown boolean[], p_window_us bigint[], p_hit bigint[], p_cost bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := now();
BEGIN
	-- Lock in key order, as take does.
	PERFORM 1 FROM {{.Counters}} c WHERE c.key = ANY (p_keys) ORDER BY c.key FOR UPDATE;
	DELETE FROM {{.Counters}} c
		USING unnest(p_keys, p_cooldown, p_hit, p_cost) AS v(key, cooldown, hit, cost)
		WHERE c.key = v.key AND c.reset > t AND v.hit > 0
			AND c.n <= CASE WHEN v.cooldown THEN 1 ELSE v.cost END
			AND CASE WHEN v.cooldown THEN c.hit = v.hit ELSE c.hit > 0 AND c.hit <= v.hit END;
	UPDATE {{.Counters}} c
		SET n = c.n - CASE WHEN v.cooldown THEN 1 ELSE v.cost END,
			reset = CASE WHEN v.cooldown THEN t + v.window_us * interval '1 microsecond' ELSE c.reset END,
			hit = CASE WHEN v.cooldown THEN 0 ELSE c.hit END
		FROM unnest(p_keys, p_cooldown, p_window_us, p_hit, p_cost) AS v(key, cooldown, window_us, hit, cost)
		WHERE c.key = v.key AND c.reset > t AND v.hit > 0
			AND c.n > CASE WHEN v.cooldown THEN 1 ELSE v.cost END
			AND CASE WHEN v.cooldown THEN c.hit = v.hit ELSE c.hit > 0 AND c.hit <= v.hit END;
END
$$;

-- verifykit store schema, version 3: the compare-and-swap and the
-- compare-and-delete write first and read only when the version does not
-- match. A successful one is then one change of one row: no row lock taken
-- by a SELECT ... FOR UPDATE beforehand (a write to the table of its own).
-- The answer to a conflict is the live record as a new statement reads it.

CREATE OR REPLACE FUNCTION {{.CAS}}(p_key bytea, p_old bigint, p_value bytea, p_ttl_us bigint,
	OUT o_ok boolean, OUT o_version bigint, OUT o_value bytea)
LANGUAGE plpgsql AS $$
BEGIN
	IF p_old = 0 THEN
		-- Create, over an expired row if there is one; a live row wins.
		INSERT INTO {{.Records}} AS r (key, version, value, expires)
			VALUES (p_key, nextval('{{.VersionsName}}'), p_value, now() + p_ttl_us * interval '1 microsecond')
			ON CONFLICT (key) DO UPDATE
				SET version = EXCLUDED.version, value = EXCLUDED.value, expires = EXCLUDED.expires
				WHERE r.expires <= now()
			RETURNING r.version INTO o_version;
	ELSE
		UPDATE {{.Records}} r
			SET version = nextval('{{.VersionsName}}'), value = p_value, expires = now() + p_ttl_us * interval '1 microsecond'
			WHERE r.key = p_key AND r.version = p_old AND r.expires > now()
			RETURNING r.version INTO o_version;
	END IF;
	IF FOUND THEN
		o_ok := true; o_value := NULL;
		RETURN;
	END IF;
	o_ok := false;
	SELECT r.version, r.value INTO o_version, o_value
		FROM {{.Records}} r WHERE r.key = p_key AND r.expires > now();
	IF NOT FOUND THEN
		o_version := 0; o_value := NULL;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION {{.CAD}}(p_key bytea, p_old bigint,
	OUT o_ok boolean, OUT o_version bigint, OUT o_value bytea)
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM {{.Records}} r WHERE r.key = p_key AND r.version = p_old AND r.expires > now();
	IF FOUND THEN
		o_ok := true; o_version := 0; o_value := NULL;
		RETURN;
	END IF;
	o_ok := false;
	SELECT r.version, r.value INTO o_version, o_value
		FROM {{.Records}} r WHERE r.key = p_key AND r.expires > now();
	IF NOT FOUND THEN
		o_version := 0; o_value := NULL;
	END IF;
END
$$;
